"""The use cases. Each reads: open a unit of work, load, apply one domain rule, write, commit,
and return plain dicts (never ORM objects) for the caller to send or publish."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Callable, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database
from .domain import (
    CANCELABLE_STATUSES,
    FINAL_STATUSES,
    AuthenticationFailed,
    Role,
    TripNotFound,
    TripStatus,
    UsernameTaken,
    explain_refused_cancel,
    explain_refused_driver_step,
    may_view,
    required_status_for,
)
from .models import Trip, User
from .views import trip_view, user_view

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RequestOutcome(NamedTuple):
    trip: dict
    created: bool  # False when a retried request_id found the trip made the first time


class TaxiService:
    def __init__(self, db: Database, *, clock: Clock = utc_now, hasher: PasswordHasher | None = None):
        self._db = db
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        # Unknown usernames are verified against this, so that they cost what a known one costs.
        self._decoy_hash = self._hasher.hash(secrets.token_hex(16))

    # --- users ---

    def signup(self, *, username: str, password: str, role: str, first_name: str = "", last_name: str = "") -> dict:
        password_hash = self._hasher.hash(password)
        user = User(
            username=username,
            password_hash=password_hash,
            role=Role(role).value,
            first_name=first_name,
            last_name=last_name,
            created=self._clock(),
        )
        try:
            with self._db.unit_of_work(write=True) as session:
                session.add(user)
                session.flush()
                return user_view(user)
        except IntegrityError:
            # The unique index, not a prior SELECT, decides: two sign-ups racing for one
            # name cannot both win.
            raise UsernameTaken(f"the username {username!r} is taken") from None

    def authenticate(self, *, username: str, password: str) -> dict:
        with self._db.unit_of_work(write=False) as session:
            user = session.scalar(select(User).where(User.username == username))
            found = user_view(user) if user is not None else None
            password_hash = user.password_hash if user is not None else self._decoy_hash
        try:
            self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed("wrong username or password") from None
        if found is None:
            raise AuthenticationFailed("wrong username or password")
        return found

    # --- trips ---

    def request_trip(
        self, *, rider: str, pick_up_address: str, drop_off_address: str, request_id: str | None = None
    ) -> RequestOutcome:
        try:
            with self._db.unit_of_work(write=True) as session:
                rider_user = _load_user(session, rider)
                if request_id is not None:
                    earlier = _find_request(session, rider_user.id, request_id)
                    if earlier is not None:
                        return RequestOutcome(trip_view(earlier), created=False)
                now = self._clock()
                trip = Trip(
                    nk=uuid.uuid4().hex,
                    created=now,
                    updated=now,
                    pick_up_address=pick_up_address,
                    drop_off_address=drop_off_address,
                    status=TripStatus.REQUESTED.value,
                    request_id=request_id,
                    rider=rider_user,
                )
                session.add(trip)
                session.flush()
                return RequestOutcome(trip_view(trip), created=True)
        except IntegrityError:
            # A concurrent retry with the same request_id committed first: answer with its trip.
            if request_id is None:
                raise
            with self._db.unit_of_work(write=False) as session:
                earlier = _find_request(session, _load_user(session, rider).id, request_id)
                return RequestOutcome(trip_view(earlier), created=False)

    def update_trip(self, *, driver: str, nk: str, status: str) -> dict:
        target = TripStatus(status)
        with self._db.unit_of_work(write=True) as session:
            driver_user = _load_user(session, driver)
            changes = {"status": target.value, "updated": self._clock()}
            if target is TripStatus.STARTED:
                changes["driver_id"] = driver_user.id  # the accept
                owner = Trip.driver_id.is_(None)
            else:
                owner = Trip.driver_id == driver_user.id
            won = _compare_and_set(session, nk, owner, {required_status_for(target)}, changes)
            trip = _load_trip(session, nk)
            if not won:
                raise explain_refused_driver_step(
                    status=TripStatus(trip.status), driver_id=trip.driver_id, caller_id=driver_user.id, target=target
                )
            return trip_view(trip)

    def cancel_trip(self, *, rider: str, nk: str) -> dict:
        with self._db.unit_of_work(write=True) as session:
            rider_user = _load_user(session, rider)
            owner = Trip.rider_id == rider_user.id
            changes = {"status": TripStatus.CANCELED.value, "updated": self._clock()}
            won = _compare_and_set(session, nk, owner, CANCELABLE_STATUSES, changes)
            trip = _load_trip(session, nk)
            if trip.rider_id != rider_user.id:
                raise TripNotFound("no such trip")
            if not won:
                raise explain_refused_cancel(status=TripStatus(trip.status))
            return trip_view(trip)

    def get_trip(self, *, user: str, nk: str) -> dict:
        with self._db.unit_of_work(write=False) as session:
            viewer = _load_user(session, user)
            trip = _load_trip(session, nk)
            if not may_view(
                status=TripStatus(trip.status),
                rider_id=trip.rider_id,
                driver_id=trip.driver_id,
                viewer_id=viewer.id,
                viewer_role=Role(viewer.role),
            ):
                raise TripNotFound("no such trip")
            return trip_view(trip)

    def list_trips(self, *, user: str, active: bool = False) -> list[dict]:
        with self._db.unit_of_work(write=False) as session:
            viewer = _load_user(session, user)
            mine = Trip.rider_id if viewer.role == Role.RIDER.value else Trip.driver_id
            query = select(Trip).where(mine == viewer.id).order_by(Trip.created.desc(), Trip.id.desc())
            if active:
                query = query.where(Trip.status.not_in([s.value for s in FINAL_STATUSES]))
            return [trip_view(trip) for trip in session.scalars(query)]

    def available_trips(self) -> list[dict]:
        with self._db.unit_of_work(write=False) as session:
            query = (
                select(Trip)
                .where(Trip.status == TripStatus.REQUESTED.value)
                .order_by(Trip.created.asc(), Trip.id.asc())
            )
            return [trip_view(trip) for trip in session.scalars(query)]

    def may_follow_trip(self, *, user: str, nk: str) -> bool:
        """Whether ``user`` may subscribe to the trip's events: its rider or its driver only."""
        with self._db.unit_of_work(write=False) as session:
            follower = session.scalar(select(User.id).where(User.username == user))
            trip = session.scalar(select(Trip).where(Trip.nk == nk))
            return follower is not None and trip is not None and follower in (trip.rider_id, trip.driver_id)


def _load_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        # The router vouched for this authid, so the account must exist.
        raise LookupError(f"authenticated user {username!r} has no account")
    return user


def _load_trip(session: Session, nk: str) -> Trip:
    trip = session.scalar(select(Trip).where(Trip.nk == nk).execution_options(populate_existing=True))
    if trip is None:
        raise TripNotFound("no such trip")
    return trip


def _find_request(session: Session, rider_id: int, request_id: str) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.rider_id == rider_id, Trip.request_id == request_id))


def _compare_and_set(session: Session, nk: str, owner, from_statuses, changes: dict) -> bool:
    """One conditional UPDATE: it changes the row only if the trip is still as expected.

    Of any number of concurrent callers exactly one can match the row, on SQLite (one
    writer at a time) and on PostgreSQL (the UPDATE re-checks its WHERE on the row after
    waiting for the other writer's lock), so there is no window to lose a race in.
    """
    statement = (
        update(Trip)
        .where(Trip.nk == nk, Trip.status.in_([s.value for s in from_statuses]), owner)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1
