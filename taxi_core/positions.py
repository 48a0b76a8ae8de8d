"""Drivers' positions and trips' offers in the database, inside a caller's unit of work.

The search for drivers near a pick-up is a bounding box on driver_positions' (lat, lng) index:
plain SQL, the same on SQLite and PostgreSQL, no spatial extension. Each driver in the box
comes with what the policy needs to judge him (taxi_core.dispatch.available): when he was
last heard from, whether he is busy, whether this trip was offered to him already.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import bindparam, exists, insert, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .dispatch import Candidate
from .geo import Box, Point
from .models import BUSY_STATUSES_SQL, DriverPosition, Trip, TripOffer, User, UTCDateTime

_USER_ID = select(User.id).where(User.username == bindparam("username")).scalar_subquery()


def _busy():
    # Spelt as the partial index ix_trips_busy_driver's WHERE, word for word: SQLite uses a
    # partial index only for a query whose WHERE contains the index's own. (No other table
    # of the query has a status column.)
    return exists().where(Trip.driver_id == DriverPosition.driver_id, text(BUSY_STATUSES_SQL))


def _near(ranges: int):
    """The box query, for a box with one range of longitudes or two (across 180°)."""
    offered = exists().where(TripOffer.trip_id == bindparam("trip_id"), TripOffer.driver_id == DriverPosition.driver_id)
    longitudes = or_(*(DriverPosition.lng.between(bindparam(f"west{n}"), bindparam(f"east{n}")) for n in range(ranges)))
    return (
        select(
            DriverPosition.driver_id,
            User.username,
            DriverPosition.lat,
            DriverPosition.lng,
            DriverPosition.seen,
            _busy().label("busy"),
            offered.label("offered"),
        )
        .join(User, User.id == DriverPosition.driver_id)
        .where(
            DriverPosition.lat.between(bindparam("lat_min"), bindparam("lat_max")),
            longitudes,
            DriverPosition.online,
        )
    )


_NEAR = {ranges: _near(ranges) for ranges in (1, 2)}


def near(session: Session, trip_id: int | None, box: Box) -> list[Candidate]:
    """The online drivers in `box`; `trip_id`: the trip whose earlier offers count (None: a new one)."""
    values = {"trip_id": trip_id, "lat_min": box.lat_min, "lat_max": box.lat_max}
    for n, (west, east) in enumerate(box.lng_ranges):
        values.update({f"west{n}": west, f"east{n}": east})
    rows = session.connection().execute(_NEAR[len(box.lng_ranges)], values)
    return [
        Candidate(driver_id, username, Point(lat, lng), seen, busy=bool(busy), offered=bool(offered))
        for driver_id, username, lat, lng, seen, busy, offered in rows
    ]


def _upsert(dialect_insert):
    """driver.locate's one statement: the driver's row made or replaced, found by username."""
    found = select(
        User.id, bindparam("lat"), bindparam("lng"), bindparam("seen", type_=UTCDateTime()), literal(True)
    ).where(User.username == bindparam("username"))
    statement = dialect_insert(DriverPosition).from_select(["driver_id", "lat", "lng", "seen", "online"], found)
    return statement.on_conflict_do_update(
        index_elements=[DriverPosition.driver_id],
        set_={name: statement.excluded[name] for name in ("lat", "lng", "seen", "online")},
    )


_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
_OFFLINE = (
    update(DriverPosition)
    .where(DriverPosition.driver_id == _USER_ID)
    .values(online=False)
    .execution_options(synchronize_session=False)
)


def locate(session: Session, username: str, point: Point, now) -> None:
    connection = session.connection()
    values = {"username": username, "lat": point.lat, "lng": point.lng, "seen": now}
    connection.execute(_UPSERT[connection.dialect.name], values)


def go_offline(session: Session, username: str) -> None:
    session.connection().execute(_OFFLINE, {"username": username})


def offer(session: Session, trip_id: int, drivers: Iterable[Candidate], round: int, now, until) -> None:
    rows = [
        {"trip_id": trip_id, "driver_id": d.driver_id, "round": round, "offered": now, "expires": until} for d in drivers
    ]
    session.connection().execute(insert(TripOffer), rows)


def offered(session: Session, trip_id: int, round: int | None = None) -> list[str]:
    """The authids of the drivers offered the trip (in `round`, or in any), in the order offered."""
    query = select(User.username).join(TripOffer, TripOffer.driver_id == User.id).where(TripOffer.trip_id == trip_id)
    if round is not None:
        query = query.where(TripOffer.round == round)
    return list(session.scalars(query.order_by(TripOffer.round, TripOffer.offered, TripOffer.driver_id)))


def offered_to(session: Session, trip_id: int, user_id: int) -> bool:
    query = select(TripOffer.round).where(TripOffer.trip_id == trip_id, TripOffer.driver_id == user_id)
    return session.scalar(query) is not None


def open_to_caller():
    """The accept rule (domain.open_to) in SQL, for the trips of a statement about the caller
    ("username"): a trip without a location, or one offered to him."""
    offered_to_caller = exists().where(TripOffer.trip_id == Trip.id, TripOffer.driver_id == _USER_ID)
    return or_(Trip.pick_up_lat.is_(None), offered_to_caller)
