"""SQLAlchemy 2.0 mapped classes. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .limits import ADDRESS_MAX, DEVICE_NAME_MAX, NAME_MAX, PUBLIC_KEY_LENGTH, REQUEST_ID_MAX, USERNAME_MAX

BUSY_STATUSES_SQL = "status IN ('STARTED', 'IN_PROGRESS')"  # a driver with such a trip gets no offers


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases: SQLite keeps no zone, so it gets naive UTC;
    PostgreSQL answers in the session's TimeZone, so its answers are turned back to UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('rider', 'driver')", name="ck_users_role"),
        UniqueConstraint("username", name="uq_users_username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(NAME_MAX))
    last_name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[str] = mapped_column(String(16))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Trip(Base):
    __tablename__ = "trips"
    __table_args__ = (
        CheckConstraint(
            "status IN ('REQUESTED', 'STARTED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED', 'EXPIRED')",
            name="ck_trips_status",
        ),
        CheckConstraint("(pick_up_lat IS NULL) = (pick_up_lng IS NULL)", name="ck_trips_pick_up_location"),
        # A retried trip.request finds its first attempt through this; it also settles two
        # concurrent retries: the loser's INSERT fails and it reads the winner's trip.
        UniqueConstraint("nk", name="uq_trips_nk"),
        UniqueConstraint("rider_id", "request_id", name="uq_trips_rider_request"),
        Index("ix_trips_status_created", "status", "created"),
        Index("ix_trips_rider_created", "rider_id", "created"),
        Index("ix_trips_driver_created", "driver_id", "created"),
        # The dispatcher's question every tick: which located requests are due now.
        Index("ix_trips_status_next_dispatch", "status", "next_dispatch_at"),
        # Who is busy (drives a trip under way), asked for every driver near a pick-up. Partial:
        # it holds only the trips under way, so it stays small however many trips are done.
        # A query uses it only if it spells this WHERE literally (positions.BUSY).
        Index(
            "ix_trips_busy_driver",
            "driver_id",
            sqlite_where=text(BUSY_STATUSES_SQL),
            postgresql_where=text(BUSY_STATUSES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nk: Mapped[str] = mapped_column(String(32))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    pick_up_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    drop_off_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    status: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(REQUEST_ID_MAX))
    rider_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_trips_rider"))
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_trips_driver"))
    # The seq of the trip's latest event (trip_events), kept here so that the step's own
    # conditional UPDATE counts it up: the next event's seq costs no query. The default is
    # for the trips that migration 0002 found, each at its event 1.
    seq: Mapped[int] = mapped_column(server_default=text("1"))

    # Dispatch (taxi_core.dispatch), for a trip requested with a pick-up location; a trip
    # without one has no location, round 0 and no deadlines, and goes to every driver.
    pick_up_lat: Mapped[float | None] = mapped_column(Double())
    pick_up_lng: Mapped[float | None] = mapped_column(Double())
    dispatch_round: Mapped[int] = mapped_column(server_default=text("0"))  # offers made so far, in rounds
    offered_count: Mapped[int] = mapped_column(server_default=text("0"))  # drivers offered it so far
    dispatch_radius_km: Mapped[float | None] = mapped_column(Double())  # the farthest of them
    # Whether a batch's offer window is open now (else the request is searching for drivers).
    offering: Mapped[bool] = mapped_column(Boolean(), server_default=text("false"))
    # When the dispatcher must act next: the end of the offer window, or the next look
    # while nobody is in reach. In the database, so that any backend, or one restarted,
    # picks it up where it stood.
    next_dispatch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    rider: Mapped[User] = relationship(foreign_keys=[rider_id], lazy="joined", innerjoin=True)
    driver: Mapped[User | None] = relationship(foreign_keys=[driver_id], lazy="joined")


class TripEvent(Base):
    """The append-only log: one row per change of a trip, written in the change's own
    transaction, never updated or deleted by the service."""

    __tablename__ = "trip_events"
    __table_args__ = (
        CheckConstraint("actor_role IN ('rider', 'driver', 'service')", name="ck_trip_events_actor_role"),
        # Two writers that both thought they made seq N of one trip cannot both commit.
        UniqueConstraint("trip_id", "seq", name="uq_trip_events_trip_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id", name="fk_trip_events_trip"))
    seq: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    actor_authid: Mapped[str | None] = mapped_column(String(USERNAME_MAX))  # None: the service did it
    actor_role: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[int | None] = mapped_column(BigInteger())  # WAMP session ids go up to 2**53
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OutboxEntry(Base):
    """An event not yet published; the row goes once the router has it. The payload (the trip
    as after the event) is kept here, not in the log: the log stays lean, and a backend that
    publishes another's stuck event needs nothing but this row."""

    __tablename__ = "outbox"

    event_id: Mapped[int] = mapped_column(ForeignKey("trip_events.id", name="fk_outbox_event"), primary_key=True)
    payload: Mapped[dict] = mapped_column(JSON())
    # What the drivers' topic is told of the event (taxi_core.events.DriverNotice, as JSON):
    # kept with the payload, so that the sweep publishes a stuck event as its backend would have.
    notices: Mapped[list] = mapped_column(JSON(), server_default=text("'[]'"))

    event: Mapped[TripEvent] = relationship(lazy="joined", innerjoin=True)


class Lease(Base):
    """Who may do a job that one backend at a time should do (the outbox sweep), and until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DriverPosition(Base):
    """An online driver's latest position (driver.locate). In the database, not in a backend's
    memory: any backend may take a driver's call and any may dispatch, and a restart loses
    nothing. A driver who goes offline keeps his row, with online false."""

    __tablename__ = "driver_positions"
    __table_args__ = (Index("ix_driver_positions_lat_lng", "lat", "lng"),)

    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_driver_positions_driver"), primary_key=True)
    lat: Mapped[float] = mapped_column(Double())
    lng: Mapped[float] = mapped_column(Double())
    seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    online: Mapped[bool] = mapped_column(Boolean())


class TripOffer(Base):
    """A located trip offered to a driver: he may accept it while it is REQUESTED."""

    __tablename__ = "offers"

    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id", name="fk_offers_trip"), primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_offers_driver"), primary_key=True)
    round: Mapped[int]
    offered: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Device(Base):
    """A user's device key (taxi_core.devices): an Ed25519 public key that may log in as the
    user with WAMP-cryptosign. A key belongs to one user only: the unique index says so."""

    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("public_key", name="uq_devices_public_key"),
        Index("ix_devices_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_devices_user"))
    public_key: Mapped[str] = mapped_column(String(PUBLIC_KEY_LENGTH))
    name: Mapped[str] = mapped_column(String(DEVICE_NAME_MAX))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The latest successful login with it (the router checked the signature), None before the first.
    last_used: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class DeviceSession(Base):
    """A WAMP session that logged in with a device: what removing the device must end. Rows go
    with their device (ON DELETE CASCADE) and when newer logins push them out (devices.SESSIONS_KEPT)."""

    __tablename__ = "device_sessions"
    __table_args__ = (Index("ix_device_sessions_device", "device_id"),)

    session_id: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", name="fk_device_sessions_device", ondelete="CASCADE"))
    joined: Mapped[dt.datetime] = mapped_column(UTCDateTime())
