"""SQLAlchemy 2.0 mapped classes. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

USERNAME_MAX = 150
NAME_MAX = 150
ADDRESS_MAX = 255
REQUEST_ID_MAX = 64


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
            "status IN ('REQUESTED', 'STARTED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED')", name="ck_trips_status"
        ),
        # A retried trip.request finds its first attempt through this; it also settles two
        # concurrent retries: the loser's INSERT fails and it reads the winner's trip.
        UniqueConstraint("nk", name="uq_trips_nk"),
        UniqueConstraint("rider_id", "request_id", name="uq_trips_rider_request"),
        Index("ix_trips_status_created", "status", "created"),
        Index("ix_trips_rider_created", "rider_id", "created"),
        Index("ix_trips_driver_created", "driver_id", "created"),
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

    rider: Mapped[User] = relationship(foreign_keys=[rider_id], lazy="joined", innerjoin=True)
    driver: Mapped[User | None] = relationship(foreign_keys=[driver_id], lazy="joined")
