"""Who sees which trip: trip.get, trip.list, trip.available, and following a trip's events."""

from __future__ import annotations

import pytest

from taxi_core.domain import TripNotFound
from taxi_core.services import TaxiService

from .conftest import STATES

ACCEPTED_STATES = ["started", "in_progress", "completed", "canceled_after_accept"]


@pytest.mark.parametrize("state", list(STATES))
def test_a_rider_sees_her_trip_in_every_state(state, trip_in, service, rider):
    nk = trip_in(state)
    assert service.get_trip(user=rider, nk=nk)["nk"] == nk


@pytest.mark.parametrize("state", ACCEPTED_STATES)
def test_a_driver_sees_the_trip_he_accepted_in_every_state(state, trip_in, service, driver):
    nk = trip_in(state)
    shown = service.get_trip(user=driver, nk=nk)
    assert (shown["nk"], shown["driver"]["username"]) == (nk, driver)


def test_any_driver_sees_a_trip_still_waiting_for_a_driver(service, trip, driver, other_driver):
    assert service.get_trip(user=driver, nk=trip["nk"]) == trip
    assert service.get_trip(user=other_driver, nk=trip["nk"]) == trip


@pytest.mark.parametrize("state", list(STATES))
def test_another_rider_never_sees_a_trip(state, trip_in, service, other_rider, refused):
    nk = trip_in(state)
    with refused(TripNotFound):
        service.get_trip(user=other_rider, nk=nk)


@pytest.mark.parametrize("state", ACCEPTED_STATES + ["canceled_before_accept"])
def test_another_driver_no_longer_sees_a_trip_once_it_is_not_up_for_grabs(
    state, trip_in, service, other_driver, refused
):
    nk = trip_in(state)
    with refused(TripNotFound):
        service.get_trip(user=other_driver, nk=nk)


def test_a_trip_that_does_not_exist_is_not_found(service, rider, driver, refused):
    for user in (rider, driver):
        with refused(TripNotFound):
            service.get_trip(user=user, nk="0" * 32)


def test_a_rider_lists_her_trips_newest_first(service, request_trip, clock, rider, other_rider):
    nks = []
    for _ in range(3):
        nks.append(request_trip()["nk"])
        request_trip(by=other_rider)
        clock.advance(10)
    assert [trip["nk"] for trip in service.list_trips(user=rider)] == nks[::-1]


def test_trips_requested_at_the_same_instant_are_listed_newest_first(service, request_trip, rider):
    nks = [request_trip()["nk"] for _ in range(3)]
    assert [trip["nk"] for trip in service.list_trips(user=rider)] == nks[::-1]


def test_the_active_filter_leaves_out_completed_and_canceled_trips(service, request_trip, rider, driver, clock):
    steps_to = {
        "COMPLETED": ["STARTED", "IN_PROGRESS", "COMPLETED"],
        "CANCELED": ["cancel"],
        "IN_PROGRESS": ["STARTED", "IN_PROGRESS"],
        "STARTED": ["STARTED"],
        "REQUESTED": [],
    }
    nks = {}
    for status, steps in steps_to.items():
        nks[status] = nk = request_trip()["nk"]
        for step in steps:
            if step == "cancel":
                service.cancel_trip(rider=rider, nk=nk)
            else:
                service.update_trip(driver=driver, nk=nk, status=step)
        clock.advance(10)
    active = [trip["nk"] for trip in service.list_trips(user=rider, active=True)]
    assert active == [nks["REQUESTED"], nks["STARTED"], nks["IN_PROGRESS"]]
    assert len(service.list_trips(user=rider, active=False)) == 5
    assert [trip["nk"] for trip in service.list_trips(user=driver, active=True)] == active[1:]


def test_a_driver_lists_only_the_trips_he_drives_newest_first(
    service, request_trip, driver, other_driver, other_rider, clock
):
    mine = []
    for _ in range(3):
        mine.append(request_trip(by=other_rider)["nk"])
        service.update_trip(driver=driver, nk=mine[-1], status="STARTED")
        service.update_trip(driver=other_driver, nk=request_trip()["nk"], status="STARTED")
        request_trip()  # still up for grabs: in no driver's list
        clock.advance(10)
    assert [trip["nk"] for trip in service.list_trips(user=driver)] == mine[::-1]
    assert len(service.list_trips(user=other_driver)) == 3


def test_a_new_user_has_no_trips(service, rider, driver):
    assert service.list_trips(user=rider) == []
    assert service.list_trips(user=driver, active=True) == []


def test_drivers_see_the_trips_up_for_grabs_oldest_first(service, request_trip, rider, other_rider, driver, clock):
    waiting = []
    for by in (rider, other_rider, rider, other_rider):
        waiting.append(request_trip(by=by)["nk"])
        clock.advance(10)
    service.update_trip(driver=driver, nk=waiting.pop(1), status="STARTED")
    service.cancel_trip(rider=rider, nk=waiting.pop(1))
    assert [trip["nk"] for trip in service.available_trips(user=driver)] == waiting
    assert all(trip["status"] == "REQUESTED" and trip["driver"] is None for trip in service.available_trips(user=driver))


def test_no_trips_are_available_when_none_wait(service, trip, trip_in, driver):
    trip_in("started")
    assert service.available_trips(user=driver) == []


@pytest.mark.parametrize("state", ACCEPTED_STATES)
def test_only_a_trips_rider_and_its_driver_may_follow_it(
    state, trip_in, service, rider, driver, other_driver, other_rider
):
    nk = trip_in(state)
    assert service.may_follow_trip(user=rider, nk=nk)
    assert service.may_follow_trip(user=driver, nk=nk)
    assert not service.may_follow_trip(user=other_driver, nk=nk)
    assert not service.may_follow_trip(user=other_rider, nk=nk)


def test_a_trip_up_for_grabs_is_followed_by_its_rider_only(service, trip, rider, driver, other_rider):
    # Drivers learn of waiting trips on taxi.drivers; a trip's own topic is for its rider and driver.
    assert service.may_follow_trip(user=rider, nk=trip["nk"])
    assert not service.may_follow_trip(user=driver, nk=trip["nk"])
    assert not service.may_follow_trip(user=other_rider, nk=trip["nk"])


def test_nobody_follows_a_trip_that_does_not_exist_and_no_unknown_user_follows_any(service, trip, rider):
    assert not service.may_follow_trip(user=rider, nk="0" * 32)
    assert not service.may_follow_trip(user="nobody", nk=trip["nk"])


def test_a_process_knows_without_the_database_who_follows_the_trips_it_made_and_saw_accepted(
    service, database, clock, password_hasher, trip, rider, driver, other_driver
):
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    assert service.known_follower(user=rider, nk=trip["nk"])
    assert service.known_follower(user=driver, nk=trip["nk"])
    assert not service.known_follower(user=other_driver, nk=trip["nk"])
    # Another backend process has seen neither: it does not know, and asks the database.
    elsewhere = TaxiService(database, clock=clock, hasher=password_hasher)
    assert not elsewhere.known_follower(user=rider, nk=trip["nk"])
    assert elsewhere.may_follow_trip(user=rider, nk=trip["nk"])
    assert elsewhere.known_follower(user=rider, nk=trip["nk"])
