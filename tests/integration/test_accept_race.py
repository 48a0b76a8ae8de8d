"""Many drivers tap "accept" at the same instant: exactly one gets the trip.

Threads are released together by a barrier, each with its own session from a pool big
enough for all of them, so the conditional UPDATEs really meet in the database.
Set TAXI_RACE_TRIPS to race over more trips than the default.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import partial

import pytest
from sqlalchemy import select

from taxi_core.domain import InvalidTransition, TripNotFound, TripTaken
from taxi_core.models import Trip, User

RACE_TRIPS = int(os.environ.get("TAXI_RACE_TRIPS", "30"))
RACERS = 20


@pytest.fixture
def drivers(sign_up) -> list[str]:
    return [sign_up(f"driver{i:02}", "driver") for i in range(RACERS)]


@pytest.fixture
def stored(database):
    """The trip's status and driver's username as the database has them."""

    def stored(nk: str) -> tuple[str, str | None]:
        query = select(Trip.status, User.username).outerjoin(User, Trip.driver_id == User.id).where(Trip.nk == nk)
        with database.unit_of_work(write=False) as session:
            return tuple(session.execute(query).one())

    return stored


def accepting(service, nk: str, drivers: list[str]) -> list:
    return [partial(service.update_trip, driver=driver, nk=nk, status="STARTED") for driver in drivers]


def test_of_twenty_drivers_accepting_at_once_exactly_one_gets_the_trip(
    service, request_trip, drivers, run_together, stored
):
    for race in range(RACE_TRIPS):
        nk = request_trip()["nk"]
        results = run_together(accepting(service, nk, drivers))
        assert Counter(map(type, results)) == {dict: 1, TripTaken: RACERS - 1}, f"race {race}"
        [(winner, trip)] = [(driver, result) for driver, result in zip(drivers, results) if isinstance(result, dict)]
        assert (trip["status"], trip["driver"]["username"]) == ("STARTED", winner)
        assert stored(nk) == ("STARTED", winner)


def test_a_driver_tapping_accept_twice_at_once_gets_the_trip_once(
    service, request_trip, driver, run_together, stored
):
    for race in range(RACE_TRIPS // 3):
        nk = request_trip()["nk"]
        results = run_together(accepting(service, nk, [driver, driver]))
        assert Counter(map(type, results)) == {dict: 1, InvalidTransition: 1}, f"race {race}"
        assert stored(nk) == ("STARTED", driver)


def test_a_rider_canceling_while_drivers_accept_cancels_and_at_most_one_driver_wins(
    service, request_trip, rider, drivers, run_together, stored
):
    for race in range(RACE_TRIPS // 3):
        nk = request_trip()["nk"]
        cancel = partial(service.cancel_trip, rider=rider, nk=nk)
        canceled, *accepts = run_together([cancel, *accepting(service, nk, drivers[:10])])
        winners = [result["driver"]["username"] for result in accepts if isinstance(result, dict)]
        assert len(winners) <= 1, f"race {race}"
        # Canceled first, the trip was no longer up for grabs (not found); accepted
        # first, it had a driver (taken). Either way the rider's cancel goes through.
        refusal = TripTaken if winners else TripNotFound
        assert all(isinstance(result, (dict, refusal)) for result in accepts), f"race {race}"
        assert canceled["status"] == "CANCELED"
        assert stored(nk) == ("CANCELED", winners[0] if winners else None)


def test_drivers_racing_to_move_an_accepted_trip_on_leave_it_to_its_driver(
    service, request_trip, driver, drivers, run_together, stored
):
    nk = request_trip()["nk"]
    service.update_trip(driver=driver, nk=nk, status="STARTED")
    results = run_together([partial(service.update_trip, driver=d, nk=nk, status="IN_PROGRESS") for d in drivers])
    assert all(isinstance(result, TripNotFound) for result in results)
    results = run_together([partial(service.update_trip, driver=driver, nk=nk, status="IN_PROGRESS")] * 5)
    assert Counter(map(type, results)) == {dict: 1, InvalidTransition: 4}
    assert stored(nk) == ("IN_PROGRESS", driver)
