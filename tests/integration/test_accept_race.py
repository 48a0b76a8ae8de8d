"""Many drivers tap "accept" at the same instant: exactly one gets the trip.

Threads are released together by a barrier, each with its own session from a pool big
enough for all of them, so the conditional UPDATEs really meet in the database.
The number of trips raced follows --long (200, else 30); TAXI_RACE_TRIPS overrides both.

The race check is shown able to fail: a deliberately naive accept (read, check in Python,
write), defined here and nowhere else, goes through the same harness and must be caught.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from functools import partial

import pytest
from sqlalchemy import select, update

from taxi_core.domain import InvalidTransition, TripNotFound, TripTaken
from taxi_core.models import Trip, User
from taxi_core.services import Change

RACERS = 20


@pytest.fixture
def race_trips(long_run) -> int:
    return int(os.environ.get("TAXI_RACE_TRIPS") or (200 if long_run else 30))


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


def accept(service, *, driver: str, nk: str) -> dict:
    return service.update_trip(driver=driver, nk=nk, status="STARTED").trip


def accepting(service, nk: str, drivers: list[str]) -> list:
    return [partial(accept, service, driver=driver, nk=nk) for driver in drivers]


@dataclass
class Tally:
    """What a run of races came to, judged against the database after each race."""

    trips: int = 0
    winners_per_trip: Counter = field(default_factory=Counter)  # drivers told "you won" -> trips
    losers_told_they_won: int = 0  # told "you won", but the database holds another driver (or none)
    refusals: Counter = field(default_factory=Counter)  # error name -> count

    def __str__(self):
        return (
            f"{self.trips} trips x {RACERS} drivers: winners per trip {dict(sorted(self.winners_per_trip.items()))}, "
            f"losers told they won {self.losers_told_they_won}, refusals {dict(self.refusals)}"
        )


@pytest.fixture
def race(request_trip, drivers, run_together, stored):
    """race(accept, trips): on each of `trips` new trips, every driver calls accept(driver=, nk=) at once."""

    def race(accept, trips: int) -> Tally:
        tally = Tally()
        for _ in range(trips):
            nk = request_trip()["nk"]
            results = run_together([partial(accept, driver=driver, nk=nk) for driver in drivers])
            status, holder = stored(nk)
            told_they_won = [(driver, trip) for driver, trip in zip(drivers, results) if isinstance(trip, dict)]
            tally.trips += 1
            tally.winners_per_trip[len(told_they_won)] += 1
            tally.losers_told_they_won += sum(
                (driver, trip["driver"]["username"], status) != (holder, holder, "STARTED")
                for driver, trip in told_they_won
            )
            tally.refusals.update(type(result).__name__ for result in results if not isinstance(result, dict))
        return tally

    return race


def test_of_twenty_drivers_accepting_at_once_exactly_one_gets_the_trip(service, race, race_trips, figure):
    tally = race(partial(accept, service), race_trips)
    figure(str(tally))
    assert tally.winners_per_trip == {1: race_trips}
    assert tally.losers_told_they_won == 0
    assert tally.refusals == {"TripTaken": race_trips * (RACERS - 1)}


def naive_accept(database, *, driver: str, nk: str) -> dict:
    """The bug the conditional UPDATE exists to prevent: read, check in Python, then write
    without the condition. For the negative control only; nothing else may do this.

    The read is a transaction of its own (DEFERRED on SQLite), the write another one. On
    SQLite, BEGIN IMMEDIATE queues the writes one after the other, but every driver who
    read before the first write committed has already passed the check; PostgreSQL's READ
    COMMITTED lets the same happen. (With the read inside the IMMEDIATE write transaction,
    SQLite would serialise read, check and write, and the naive version would be right by
    accident there, though still wrong on PostgreSQL.)
    """
    with database.unit_of_work(write=False) as session:
        status = session.scalar(select(Trip.status).where(Trip.nk == nk))
    if status != "REQUESTED":
        raise TripTaken("another driver has accepted this trip")
    with database.unit_of_work(write=True) as session:
        driver_id = session.scalar(select(User.id).where(User.username == driver))
        session.execute(update(Trip).where(Trip.nk == nk).values(status="STARTED", driver_id=driver_id))
    return {"nk": nk, "status": "STARTED", "driver": {"username": driver}}


def test_the_race_check_catches_a_naive_read_then_write_accept(database, race, race_trips, figure):
    tally = race(partial(naive_accept, database), max(20, race_trips // 10))
    figure(f"naive accept (negative control): {tally}")
    assert max(tally.winners_per_trip) > 1, "the harness did not catch two winners of one trip"
    assert tally.losers_told_they_won > 0


def test_a_driver_tapping_accept_twice_at_once_gets_the_trip_once(
    service, request_trip, driver, run_together, stored, race_trips
):
    for race in range(race_trips // 3):
        nk = request_trip()["nk"]
        results = run_together(accepting(service, nk, [driver, driver]))
        assert Counter(map(type, results)) == {dict: 1, InvalidTransition: 1}, f"race {race}"
        assert stored(nk) == ("STARTED", driver)


def test_a_rider_canceling_while_drivers_accept_cancels_and_at_most_one_driver_wins(
    service, request_trip, rider, drivers, run_together, stored, race_trips
):
    for race in range(race_trips // 3):
        nk = request_trip()["nk"]
        cancel = partial(service.cancel_trip, rider=rider, nk=nk)
        canceled, *accepts = run_together([cancel, *accepting(service, nk, drivers[:10])])
        winners = [result["driver"]["username"] for result in accepts if isinstance(result, dict)]
        assert len(winners) <= 1, f"race {race}"
        # Canceled first, the trip was no longer up for grabs (not found); accepted
        # first, it had a driver (taken). Either way the rider's cancel goes through.
        refusal = TripTaken if winners else TripNotFound
        assert all(isinstance(result, (dict, refusal)) for result in accepts), f"race {race}"
        assert canceled.trip["status"] == "CANCELED"
        assert stored(nk) == ("CANCELED", winners[0] if winners else None)


def test_drivers_racing_to_move_an_accepted_trip_on_leave_it_to_its_driver(
    service, request_trip, driver, drivers, run_together, stored
):
    nk = request_trip()["nk"]
    service.update_trip(driver=driver, nk=nk, status="STARTED")
    results = run_together([partial(service.update_trip, driver=d, nk=nk, status="IN_PROGRESS") for d in drivers])
    assert all(isinstance(result, TripNotFound) for result in results)
    results = run_together([partial(service.update_trip, driver=driver, nk=nk, status="IN_PROGRESS")] * 5)
    assert Counter(map(type, results)) == {Change: 1, InvalidTransition: 4}
    assert stored(nk) == ("IN_PROGRESS", driver)
