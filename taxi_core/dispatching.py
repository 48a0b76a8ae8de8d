"""The dispatch use cases: drivers' positions, and the rounds of offers of located requests.

The rules are taxi_core.dispatch's (the policy) and domain's (the accept rule); this module
opens the unit of work, loads, asks the policy once, and writes what it said: the offers, the
trip's dispatch columns and, for what a client should see, a trip event with the drivers'
notices (taxi_core.events.DriverNotice) for the outbox.

Who drives: round 1 runs inside trip.request's own transaction (add_request), so the first
offers go out with the request's own event; later rounds and the expiry are the dispatcher's
(components/dispatcher.py), the backend holding the "dispatch" lease, which asks `due` every
tick and runs `dispatch` for each trip. Every round is a compare-and-set on the trip's seq, so
two dispatchers at once (a lease lost mid-tick) cannot both apply a round: the loser does
nothing. seq rather than dispatch_round: every change of the trip moves it (a round, the end
of a window, an accept, a cancel), so one condition stops all of them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from . import positions, trip_log
from .db import Database
from .dispatch import DispatchState, Expire, Offer, Policy, Step, Wait, search
from .domain import TripStatus, open_to
from .events import OFFER_CLOSED, OFFER_OPEN, SERVICE_ROLE, DriverNotice, Publication, to_every_driver
from .geo import Point
from .models import Trip, UTCDateTime

DISPATCH_LEASE = "dispatch"  # the row migration 0003 made
# Shorter than the sweep's: a dead dispatcher's trips wait this long at most for another.
LEASE_TERM = dt.timedelta(seconds=5)
DUE_BATCH = 200  # trips per tick; the rest are as due on the next


def located(pick_up_location: Point | None, policy: Policy, now: dt.datetime) -> dict:
    """A new trip's columns for its pick-up location, if it has one."""
    base = {"dispatch_round": 0, "offered_count": 0, "offering": False}
    if pick_up_location is None:
        return base
    return {**base, "pick_up_lat": pick_up_location.lat, "pick_up_lng": pick_up_location.lng,
            "expires_at": policy.expires_at(now)}  # fmt: skip


def add_request(session: Session, trip: Trip, policy: Policy, now: dt.datetime) -> tuple[DriverNotice, ...]:
    """Adds a new trip (made with `located`) with its first round, if it has a location: the
    drivers' notices of its event 1. Nobody has been offered a new trip, so no trip id is needed
    to search."""
    if trip.pick_up_lat is None:
        session.add(trip)
        session.flush()
        return to_every_driver(TripStatus.REQUESTED)
    step = search(policy, _state(trip), lambda box: positions.near(session, None, box), now)
    notices = _notices(session, trip, step, new=True)
    for column, value in _columns(trip, step).items():
        setattr(trip, column, value)
    session.add(trip)
    session.flush()
    if isinstance(step, Offer):
        positions.offer(session, trip.id, step.drivers, trip.dispatch_round, now, step.window_until)
    return notices


def drivers_told(session: Session, trip: Trip, *, was_requested: bool) -> tuple[DriverNotice, ...]:
    """The drivers' notices of a rider's or a driver's change of the trip: for a trip without a
    location, as always; for a located one, its offers close when it stops being up for grabs."""
    if trip.pick_up_lat is None:
        return to_every_driver(TripStatus(trip.status))
    return _closed(positions.offered(session, trip.id)) if was_requested else ()


def open_to_user(session: Session, trip: Trip, user_id: int) -> bool:
    """domain.open_to for this trip and user: a question to the database only if it is located."""
    located = trip.pick_up_lat is not None
    return open_to(located=located, offered=located and positions.offered_to(session, trip.id, user_id))


class Dispatching:
    def __init__(self, db: Database, *, clock, policy: Policy = Policy()):
        self._db = db
        self._clock = clock
        self._policy = policy

    def locate(self, *, driver: str, lat: float, lng: float) -> None:
        """One UPSERT in a short transaction: a position costs no password check and no read."""
        with self._db.unit_of_work(write=True) as session:
            positions.locate(session, driver, Point(lat, lng), self._clock())

    def go_offline(self, *, driver: str) -> None:
        with self._db.unit_of_work(write=True) as session:
            positions.go_offline(session, driver)

    def take_lease(self, holder: str) -> bool:
        now = self._clock()
        return trip_log.take_lease(self._db, DISPATCH_LEASE, holder, now=now, until=now + LEASE_TERM)

    def due(self, limit: int = DUE_BATCH) -> list[int]:
        """The located requests whose next step is due, the longest due first."""
        with self._db.unit_of_work(write=False) as session:
            return list(session.scalars(_DUE, {"now": self._clock(), "limit": limit}))

    def dispatch(self, trip_id: int) -> tuple[Publication, ...]:
        """The trip's next round, or the end of its window, or its expiry, if it is due: the
        events to publish (none for a wait nobody needs to hear of, or if another won)."""
        now = self._clock()
        with self._db.unit_of_work(write=True) as session:
            trip = session.scalar(_TRIP, {"trip_id": trip_id})
            if not _is_due(trip, now):
                return ()
            step = search(self._policy, _state(trip), lambda box: positions.near(session, trip.id, box), now)
            told = _is_told(trip, step)
            notices = _notices(session, trip, step)
            columns = _columns(trip, step)
            if told:
                columns.update(seq=trip.seq + 1, updated=now)
            if not _compare_and_set(session, trip, columns):
                return ()
            if isinstance(step, Offer):
                positions.offer(session, trip.id, step.drivers, columns["dispatch_round"], now, step.window_until)
            if not told:
                return ()
            trip = session.scalar(_TRIP, {"trip_id": trip_id})
            stuck = trip_log.stuck_before_step(session, trip, now)
            event = trip_log.record(
                session, trip, actor=None, role=SERVICE_ROLE, session_id=None, now=now, notices=notices
            )
            return (*stuck, event)


_TRIP = select(Trip).where(Trip.id == bindparam("trip_id")).execution_options(populate_existing=True)
_DUE = (
    select(Trip.id)
    .where(Trip.status == TripStatus.REQUESTED.value, Trip.next_dispatch_at <= bindparam("now", type_=UTCDateTime()))
    .order_by(Trip.next_dispatch_at)
    .limit(bindparam("limit"))
)


def _is_due(trip: Trip | None, now: dt.datetime) -> bool:
    return (
        trip is not None
        and trip.status == TripStatus.REQUESTED.value
        and trip.next_dispatch_at is not None
        and trip.next_dispatch_at <= now
    )


def _state(trip: Trip) -> DispatchState:
    return DispatchState(Point(trip.pick_up_lat, trip.pick_up_lng), trip.expires_at, trip.dispatch_radius_km)


def _is_told(trip: Trip, step: Step) -> bool:
    """A round and the expiry are events; so is the end of a window nobody new is in reach
    for (the rider sees "searching" again); a wait while searching already is not."""
    return not isinstance(step, Wait) or trip.offering


def _columns(trip: Trip, step: Step) -> dict:
    if isinstance(step, Offer):
        return {"dispatch_round": trip.dispatch_round + 1, "offered_count": trip.offered_count + len(step.drivers),
                "dispatch_radius_km": step.radius_km, "offering": True, "next_dispatch_at": step.window_until}  # fmt: skip
    if isinstance(step, Wait):
        return {"offering": False, "next_dispatch_at": step.until}
    return {"status": TripStatus.EXPIRED.value, "offering": False, "next_dispatch_at": None}


def _notices(session: Session, trip: Trip, step: Step, *, new: bool = False) -> tuple[DriverNotice, ...]:
    """A round opens the offer to its batch and closes it for the batch before (passed on);
    the end of a window closes it; the expiry closes it for every driver ever offered."""
    if isinstance(step, Expire):
        return () if new else _closed(positions.offered(session, trip.id))
    previous = () if new or not trip.offering else _closed(positions.offered(session, trip.id, trip.dispatch_round))
    if isinstance(step, Wait):
        return previous
    batch = tuple(driver.authid for driver in step.drivers)
    return (DriverNotice(batch, OFFER_OPEN, step.window_until.isoformat()), *previous)


def _closed(authids) -> tuple[DriverNotice, ...]:
    return (DriverNotice(tuple(authids), OFFER_CLOSED),) if authids else ()


def _compare_and_set(session: Session, trip: Trip, columns: dict) -> bool:
    """Writes the step only if the trip is still REQUESTED at the seq it was loaded at."""
    statement = (
        update(Trip)
        .where(Trip.id == trip.id, Trip.status == TripStatus.REQUESTED.value, Trip.seq == trip.seq)
        .values(**columns)
        .execution_options(synchronize_session=False)
    )
    return session.connection().execute(statement).rowcount == 1
