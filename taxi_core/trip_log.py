"""The trip-event log and its outbox in the database: appending an event inside the caller's
unit of work, and the outbox's own use cases (forget what was published, find what is stuck,
take the sweep's lease). The rules themselves are taxi_core.events'."""

from __future__ import annotations

from sqlalchemy import JSON, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from .db import Database
from .domain import TripNotFound
from .events import SWEEP_BATCH, DriverNotice, Publication, lease_until, stuck_before
from .models import Lease, OutboxEntry, Trip, TripEvent, UTCDateTime
from .views import event_view, trip_view

SWEEP_LEASE = "outbox"  # the row migration 0002 made (0003 made "dispatch", taxi_core.dispatching's)


def record(
    session: Session, trip: Trip, *, actor: str | None, role: str, session_id: int | None, now,
    notices: tuple[DriverNotice, ...] = (),
) -> Publication:  # fmt: skip
    """Appends the trip's event ``trip.seq`` (the trip as it is now) and its outbox row, with
    what the drivers' topic is to be told of it (``notices``).

    Plain INSERTs on the unit of work's connection, not ORM objects: nothing reads the rows
    back in this transaction, and the ORM's flush of them cost more than the rest of the
    step (taxi bench, issue 10). On PostgreSQL both rows go in one statement (SQLite has no
    INSERT inside a WITH): every round trip to the server counted there."""
    connection = session.connection()
    view = trip_view(trip)
    stored = [notice.as_json() for notice in notices]
    values = {
        "trip_id": trip.id,
        "seq": trip.seq,
        "status": trip.status,
        "actor_authid": actor,
        "actor_role": role,
        "session_id": session_id,
        "created": now,
        "payload": view,
        "notices": stored,
    }
    if connection.dialect.name == "postgresql":
        event_id = connection.execute(_INSERT_EVENT_WITH_OUTBOX, values).scalar_one()
    else:
        event_id = connection.execute(_INSERT_EVENT, values).scalar_one()
        connection.execute(_INSERT_OUTBOX, {"event_id": event_id, "payload": view, "notices": stored})
    return Publication(event_id, trip.nk, trip.seq, view, notices=notices)


def stuck_before_step(session: Session, trip: Trip, now) -> list[Publication]:
    """The trip's older events stuck in the outbox, oldest first: published before the new
    one, so that a subscriber sees the trip's events in order even after a stuck one."""
    parameters = {"trip_id": trip.id, "seq": trip.seq, "before": stuck_before(now)}
    rows = session.connection().execute(_STUCK_OF_TRIP, parameters)
    return [
        Publication(event_id, trip.nk, seq, payload, retain=False, notices=_notices(notices))
        for event_id, seq, payload, notices in rows
    ]


def _notices(stored: list) -> tuple[DriverNotice, ...]:
    return tuple(DriverNotice.from_json(notice) for notice in stored)


def events_of(session: Session, trip: Trip) -> list[dict]:
    """The trip's events as the wire shows them, oldest first."""
    query = select(TripEvent).where(TripEvent.trip_id == trip.id).order_by(TripEvent.seq)
    return [event_view(event) for event in session.scalars(query)]


def history(db: Database, nk: str) -> list[dict]:
    """Any trip's events, for an operator (`taxi history`): no user, so no rule of who may see it."""
    with db.unit_of_work(write=False) as session:
        trip = session.scalar(select(Trip).where(Trip.nk == nk))
        if trip is None:
            raise TripNotFound("no such trip")
        return events_of(session, trip)


def take_lease(db: Database, name: str, holder: str, *, now, until) -> bool:
    """One conditional UPDATE, as for the accept: of the backends that ask at once, one holds
    the lease ``name`` until it expires; its holder renews it each time it asks."""
    with db.unit_of_work(write=True) as session:
        values = {"lease_name": name, "lease_holder": holder, "now": now, "until": until}
        return session.execute(_TAKE_LEASE, values).rowcount == 1


_EVENT_VALUES = {
    column: bindparam(column, type_=TripEvent.__table__.c[column].type)
    for column in ("trip_id", "seq", "status", "actor_authid", "actor_role", "session_id", "created")
}
_INSERT_EVENT = insert(TripEvent).values(_EVENT_VALUES).returning(TripEvent.id)
_INSERT_OUTBOX = insert(OutboxEntry)
_NEW_EVENT = _INSERT_EVENT.cte("new_event")
_INSERT_EVENT_WITH_OUTBOX = (
    insert(OutboxEntry)
    .from_select(
        ["event_id", "payload", "notices"],
        select(_NEW_EVENT.c.id, bindparam("payload", type_=JSON()), bindparam("notices", type_=JSON())),
    )
    .returning(OutboxEntry.event_id)
)
# Whether the trip has events before its latest one still in the outbox past the grace: a
# column of the step's own SELECT of the trip, so the usual step (none) costs no query of its own.
HAS_STUCK = (
    exists()
    .where(
        OutboxEntry.event_id == TripEvent.id,
        TripEvent.trip_id == Trip.id,
        TripEvent.seq < Trip.seq,
        TripEvent.created < bindparam("before", type_=UTCDateTime()),
    )
    .label("has_stuck")
)
# "lease_holder", not "holder": in an UPDATE a bound name may not be a column's.
_TAKE_LEASE = (
    update(Lease)
    .where(
        Lease.name == bindparam("lease_name"),
        or_(
            Lease.holder == bindparam("lease_holder"),
            Lease.expires.is_(None),
            Lease.expires < bindparam("now", type_=UTCDateTime()),
        ),
    )
    .values(holder=bindparam("lease_holder"), expires=bindparam("until", type_=UTCDateTime()))
    .execution_options(synchronize_session=False)
)
_STUCK_OF_TRIP = (
    select(OutboxEntry.event_id, TripEvent.seq, OutboxEntry.payload, OutboxEntry.notices)
    .join(TripEvent, OutboxEntry.event_id == TripEvent.id)
    .where(
        TripEvent.trip_id == bindparam("trip_id"),
        TripEvent.seq < bindparam("seq"),
        TripEvent.created < bindparam("before", type_=UTCDateTime()),
    )
    .order_by(TripEvent.seq)
)


class Outbox:
    """What the components' outbox (components/outbox.py) runs in the pool."""

    def __init__(self, db: Database, *, clock):
        self._db = db
        self._clock = clock

    def forget(self, event_ids: list[int]) -> None:
        """The router has these events: their rows go (the log keeps the events)."""
        with self._db.unit_of_work(write=True) as session:
            session.execute(delete(OutboxEntry).where(OutboxEntry.event_id.in_(event_ids)))

    def take_lease(self, holder: str) -> bool:
        """Whether ``holder`` holds the sweep's lease now (take_lease)."""
        now = self._clock()
        return take_lease(self._db, SWEEP_LEASE, holder, now=now, until=lease_until(now))

    def stuck(self) -> list[Publication]:
        """Rows older than the grace a live backend gets to publish its own, per trip oldest first."""
        with self._db.unit_of_work(write=False) as session:
            rows = session.execute(
                select(
                    OutboxEntry.event_id,
                    Trip.nk,
                    TripEvent.seq,
                    OutboxEntry.payload,
                    OutboxEntry.notices,
                    TripEvent.seq == Trip.seq,
                )
                .join(TripEvent, OutboxEntry.event_id == TripEvent.id)
                .join(Trip, TripEvent.trip_id == Trip.id)
                .where(TripEvent.created < stuck_before(self._clock()))
                .order_by(TripEvent.trip_id, TripEvent.seq)
                .limit(SWEEP_BATCH)
            )
            # Only the trip's latest event is retained: a stuck event it has moved on from is
            # told to whoever listens now, not kept for late subscribers.
            return [
                Publication(event_id, nk, seq, payload, retain=bool(latest), notices=_notices(notices))
                for event_id, nk, seq, payload, notices, latest in rows
            ]
