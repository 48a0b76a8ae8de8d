"""People, trips and checks shared by the integration tests (each runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable

import pytest
from sqlalchemy import select

from taxi_core.models import OutboxEntry, Trip, TripEvent, User

PASSWORD = "correct horse battery"


@pytest.fixture
def password() -> str:
    """Everyone's password in these tests."""
    return PASSWORD


@pytest.fixture
def sign_up(service):
    """Signs a user up and returns the username (the authid the router would vouch for)."""

    def sign_up(username: str, role: str) -> str:
        service.signup(username=username, password=PASSWORD, role=role)
        return username

    return sign_up


@pytest.fixture
def rider(sign_up) -> str:
    return sign_up("rosa", "rider")


@pytest.fixture
def other_rider(sign_up) -> str:
    return sign_up("otto", "rider")


@pytest.fixture
def driver(sign_up) -> str:
    return sign_up("dan", "driver")


@pytest.fixture
def other_driver(sign_up) -> str:
    return sign_up("dora", "driver")


@pytest.fixture
def request_trip(service, rider):
    def request_trip(by: str = rider, **arguments) -> dict:
        arguments = {"pick_up_address": "1 Main St", "drop_off_address": "2 Elm St", **arguments}
        return service.request_trip(rider=by, **arguments).trip

    return request_trip


@pytest.fixture
def trip(request_trip) -> dict:
    """A REQUESTED trip of the rider's."""
    return request_trip()


@pytest.fixture
def rows(database):
    """Every trip, user, trip event and outbox row as stored: what a refused operation must
    leave alone (a refused step writes no event)."""

    def rows() -> dict:
        with database.unit_of_work(write=False) as session:
            trips = session.execute(
                select(Trip.nk, Trip.status, Trip.rider_id, Trip.driver_id, Trip.updated).order_by(Trip.id)
            )
            users = session.execute(select(User.id, User.username, User.password_hash).order_by(User.id))
            events = session.execute(select(TripEvent.trip_id, TripEvent.seq, TripEvent.status).order_by(TripEvent.id))
            outbox = session.scalars(select(OutboxEntry.event_id).order_by(OutboxEntry.event_id))
            return {
                "trips": [tuple(t) for t in trips],
                "users": [tuple(u) for u in users],
                "events": [tuple(e) for e in events],
                "outbox": list(outbox),
            }

    return rows


@pytest.fixture
def refused(rows, clock):
    """``with refused(TripTaken): ...`` expects that error and a database just as it was.

    The clock moves first, so that a write that should not have happened shows in ``updated``.
    """

    @contextmanager
    def refused(error: type[Exception]):
        before = rows()
        clock.advance(60)
        with pytest.raises(error) as raised:
            yield raised
        assert rows() == before

    return refused


@pytest.fixture
def run_together():
    """Runs the calls in threads released at one instant by a barrier; returns each one's
    result, or the exception it raised, in order."""

    def run_together(calls: list[Callable[[], object]]) -> list:
        barrier = threading.Barrier(len(calls))

        def run(call):
            barrier.wait(timeout=30)
            try:
                return call()
            except Exception as error:
                return error

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(run, calls))

    return run_together


# How a trip of the rider's gets into each state it can be in: "driver" is the one who
# accepted it, if anyone did.
STATES = {
    "requested": [],
    "started": ["STARTED"],
    "in_progress": ["STARTED", "IN_PROGRESS"],
    "completed": ["STARTED", "IN_PROGRESS", "COMPLETED"],
    "canceled_before_accept": ["cancel"],
    "canceled_after_accept": ["STARTED", "cancel"],
}


@pytest.fixture
def trip_in(service, rider, driver, trip, clock):
    """Brings the rider's trip into one of STATES, a step a minute, and returns its nk."""

    def trip_in(state: str) -> str:
        for step in STATES[state]:
            clock.advance(60)
            if step == "cancel":
                service.cancel_trip(rider=rider, nk=trip["nk"])
            else:
                service.update_trip(driver=driver, nk=trip["nk"], status=step)
        return trip["nk"]

    return trip_in
