"""A driver accepts a trip and drives it to completion; a rider cancels it. Every step the
lifecycle does not allow is refused and leaves the database as it was."""

from __future__ import annotations

import pytest

from taxi_core.domain import InvalidTransition, TripNotFound, TripTaken

from .conftest import STATES

OUTCOMES = {"ok": "ok", "invalid": InvalidTransition, "taken": TripTaken, "hidden": TripNotFound}

# What trip.update(status=<column>) does to a trip in <trip>'s state. The caller "driver" is
# the one who accepted the trip (if anyone did); "other" is a driver who never did.
# "hidden" is TripNotFound: the caller may not see the trip.
UPDATES = """
  trip                    caller  REQUESTED  STARTED  IN_PROGRESS  COMPLETED  CANCELED
  requested               driver  invalid    ok       invalid      invalid    invalid
  requested               other   invalid    ok       invalid      invalid    invalid
  started                 driver  invalid    invalid  ok           invalid    invalid
  started                 other   invalid    taken    hidden       hidden     invalid
  in_progress             driver  invalid    invalid  invalid      ok         invalid
  in_progress             other   invalid    taken    hidden       hidden     invalid
  completed               driver  invalid    invalid  invalid      invalid    invalid
  completed               other   invalid    taken    hidden       hidden     invalid
  canceled_before_accept  driver  invalid    hidden   hidden       hidden     invalid
  canceled_before_accept  other   invalid    hidden   hidden       hidden     invalid
  canceled_after_accept   driver  invalid    invalid  invalid      invalid    invalid
  canceled_after_accept   other   invalid    taken    hidden       hidden     invalid
"""


def _update_cases() -> list:
    header, *rows = UPDATES.strip().splitlines()
    targets = header.split()[2:]
    cases = []
    for row in rows:
        state, caller, *outcomes = row.split()
        for target, outcome in zip(targets, outcomes, strict=True):
            cases.append(pytest.param(state, caller, target, OUTCOMES[outcome], id=f"{state}-{caller}-to-{target}"))
    return cases


def test_the_update_table_covers_every_state_caller_and_target():
    assert {case.values[:3] for case in _update_cases()} == {
        (state, caller, target)
        for state in STATES
        for caller in ("driver", "other")
        for target in ("REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED")
    }


@pytest.mark.parametrize(("state", "caller", "target", "expected"), _update_cases())
def test_a_driver_moves_a_trip_only_as_the_lifecycle_allows(
    state, caller, target, expected, trip_in, service, refused, clock, driver, other_driver
):
    nk = trip_in(state)
    who = {"driver": driver, "other": other_driver}[caller]
    if expected == "ok":
        clock.advance(60)
        moved = service.update_trip(driver=who, nk=nk, status=target).trip
        assert (moved["status"], moved["driver"]["username"], moved["updated"]) == (target, who, clock().isoformat())
    else:
        with refused(expected):
            service.update_trip(driver=who, nk=nk, status=target)


def test_the_driver_who_accepts_a_trip_becomes_its_driver(service, trip, driver, password, clock):
    clock.advance(30)
    accepted = service.update_trip(driver=driver, nk=trip["nk"], status="STARTED").trip
    assert accepted["status"] == "STARTED"
    assert accepted["driver"] == service.authenticate(username=driver, password=password)
    assert accepted["rider"] == trip["rider"]
    assert (accepted["created"], accepted["updated"]) == (trip["created"], clock().isoformat())


def test_second_driver_to_accept_gets_trip_taken(service, trip, driver, other_driver, refused):
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    with refused(TripTaken):
        service.update_trip(driver=other_driver, nk=trip["nk"], status="STARTED")


def test_a_driver_takes_a_trip_from_request_to_completion(service, trip, driver, rider, clock):
    shown = trip
    for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
        clock.advance(300)
        shown = service.update_trip(driver=driver, nk=trip["nk"], status=status).trip
        assert (shown["status"], shown["updated"], shown["created"]) == (status, clock().isoformat(), trip["created"])
        assert shown["driver"]["username"] == driver
    assert service.get_trip(user=rider, nk=trip["nk"]) == shown


@pytest.mark.parametrize("status", ["STARTED", "IN_PROGRESS", "COMPLETED"])
def test_updating_a_trip_that_does_not_exist_is_not_found(service, driver, trip, status, refused):
    with refused(TripNotFound):
        service.update_trip(driver=driver, nk="0" * 32, status=status)


@pytest.mark.parametrize("state", ["requested", "started"])
def test_a_rider_cancels_a_trip_before_the_ride_begins(state, trip_in, service, rider, driver, clock):
    nk = trip_in(state)
    before = service.get_trip(user=rider, nk=nk)
    clock.advance(60)
    canceled = service.cancel_trip(rider=rider, nk=nk).trip
    assert (canceled["status"], canceled["updated"]) == ("CANCELED", clock().isoformat())
    # The driver who had accepted stays on record, so he still sees what became of his trip.
    assert canceled["driver"] == before["driver"]
    assert service.get_trip(user=rider, nk=nk) == canceled


@pytest.mark.parametrize("state", ["in_progress", "completed", "canceled_before_accept", "canceled_after_accept"])
def test_a_trip_under_way_or_over_cannot_be_canceled(state, trip_in, service, rider, refused):
    nk = trip_in(state)
    with refused(InvalidTransition):
        service.cancel_trip(rider=rider, nk=nk)


@pytest.mark.parametrize("state", list(STATES))
def test_another_rider_cannot_cancel_a_trip_and_learns_nothing_of_it(state, trip_in, service, other_rider, refused):
    nk = trip_in(state)
    with refused(TripNotFound):
        service.cancel_trip(rider=other_rider, nk=nk)


def test_canceling_a_trip_that_does_not_exist_is_not_found(service, rider, trip, refused):
    with refused(TripNotFound):
        service.cancel_trip(rider=rider, nk="f" * 32)
