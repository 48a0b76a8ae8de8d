"""What the people who run taxi ask of the database: does it answer (the health check), and the
figures their gauges show (trips by status, offers made, the outbox's backlog). No I/O but the
database's; the components serve them (components/health.py, components/metrics_http.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from .db import Database, DatabaseUnreachable
from .domain import TripStatus
from .models import OutboxEntry, Trip, TripEvent, TripOffer


@dataclass(frozen=True)
class Figures:
    """The database's side of the metrics, as of one scrape."""

    trips: dict[str, int] = field(default_factory=dict)  # every status, 0 included
    offers: int = 0  # offers ever made (a row per trip and driver offered it; never deleted)
    outbox: int = 0  # events committed but not yet acknowledged by the router
    outbox_oldest_seconds: float = 0.0  # how long the oldest of them has waited (0: none)


def ping(db: Database) -> None:
    """One round trip to the database; DatabaseUnreachable, with the driver's words, if there is none.

    It reads the schema's own table, not a constant: a SQLite file that was replaced or
    emptied under an open connection still answers `SELECT 1`."""
    try:
        with db.unit_of_work(write=False) as session:
            session.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError as error:
        url = db.engine.url.render_as_string(hide_password=True)
        raise DatabaseUnreachable(url, " ".join(str(error.orig).split())) from error


def figures(db: Database, now: dt.datetime) -> Figures:
    """Counted at scrape time, in one read: each query is an index scan or a small table's."""
    with db.unit_of_work(write=False) as session:
        by_status = dict(session.execute(select(Trip.status, func.count()).group_by(Trip.status)).all())
        offers = session.scalar(select(func.count()).select_from(TripOffer))
        outbox, oldest = session.execute(
            select(func.count(), func.min(TripEvent.created)).select_from(OutboxEntry).join(TripEvent)
        ).one()
    # min() keeps the column's type (UTCDateTime): `oldest` is aware UTC on both databases.
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    return Figures(
        trips={status.value: by_status.get(status.value, 0) for status in TripStatus},
        offers=offers or 0,
        outbox=outbox or 0,
        outbox_oldest_seconds=max(waited, 0.0),
    )

