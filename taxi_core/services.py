"""The use cases. Each reads: open a unit of work, load, apply one domain rule, write, commit,
and return plain dicts (never ORM objects) for the caller to send or publish."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Callable, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import dispatching, positions, trip_log
from .db import Database
from .dispatch import Policy
from .events import Publication, stuck_before
from .followers import Followers
from .domain import (
    CANCELABLE_STATUSES,
    FINAL_STATUSES,
    AuthenticationFailed,
    Driver,
    Role,
    TripNotFound,
    TripStatus,
    UsernameTaken,
    driver_step,
    explain_refused_cancel,
    may_view,
)
from .geo import Point
from .models import Trip, UTCDateTime, User
from .views import trip_view, user_view

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RequestOutcome(NamedTuple):
    trip: dict
    created: bool  # False when a retried request_id found the trip made the first time
    events: tuple[Publication, ...] = ()  # none for a retry: its first attempt made the event


class Change(NamedTuple):
    """A step's trip as after it, and the events to publish once it has committed: its own and
    any older ones of the trip stuck in the outbox (events.stuck_before), oldest first."""

    trip: dict
    events: tuple[Publication, ...]


class TaxiService:
    def __init__(
        self, db: Database, *, clock: Clock = utc_now, hasher: PasswordHasher | None = None, policy: Policy = Policy()
    ):
        self._db = db
        self._clock = clock
        self._policy = policy
        self._hasher = hasher or PasswordHasher()
        # Unknown usernames are verified against this, so that they cost what a known one costs.
        self._decoy_hash = self._hasher.hash(secrets.token_hex(16))
        self._followers = Followers()

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

    # The use cases that change a trip take the caller's WAMP session id for the event log.
    # The actor's role is the use case's own, not a parameter: only riders may request and
    # cancel, only drivers step a trip (the router's authorizer sees to that, components/auth.py),
    # so the role the router disclosed could never say anything else.

    def request_trip(
        self,
        *,
        rider: str,
        pick_up_address: str,
        drop_off_address: str,
        request_id: str | None = None,
        session_id: int | None = None,
        pick_up_location: Point | None = None,
    ) -> RequestOutcome:
        """With a pick-up location, the first round of offers is part of the request's own
        change: its event 1 already shows whom it was offered to (taxi_core.dispatching)."""
        try:
            with self._db.unit_of_work(write=True) as session:
                rider_user = _load_user(session, rider)
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
                    seq=1,
                    **dispatching.located(pick_up_location, self._policy, now),
                )
                notices = dispatching.add_request(session, trip, self._policy, now)
                event = trip_log.record(
                    session, trip, actor=rider, role=Role.RIDER.value, session_id=session_id, now=now, notices=notices
                )
                outcome = RequestOutcome(event.trip, created=True, events=(event,))
        except IntegrityError:
            # The unique index on (rider, request_id) tells a retry, not a SELECT first: a
            # retry finds the first attempt's trip, and nothing new is made, whether it came
            # after the first attempt committed or raced it. The usual request pays nothing.
            if request_id is None:
                raise
            with self._db.unit_of_work(write=False) as session:
                earlier = _find_request(session, _load_user(session, rider).id, request_id)
                return RequestOutcome(trip_view(earlier), created=False)
        self._followers.remember(rider, outcome.trip["nk"])
        return outcome

    def update_trip(self, *, driver: str, nk: str, status: str, session_id: int | None = None) -> Change:
        step = driver_step(TripStatus(status))
        now = self._clock()
        with self._db.unit_of_work(write=True) as session:
            statement = _DRIVER_STEP[step.driver]
            won = _compare_and_set(session, statement, nk, driver, {step.source}, step.target, now)
            trip, has_stuck = _load_stepped_trip(session, nk, now)
            if not won:
                caller_id = _load_user(session, driver).id
                raise step.refusal(
                    status=TripStatus(trip.status), driver_id=trip.driver_id, caller_id=caller_id,
                    open_to_caller=dispatching.open_to_user(session, trip, caller_id),
                )  # fmt: skip
            change = _logged(session, trip, has_stuck, actor=driver, role=Role.DRIVER, session_id=session_id,
                             now=now, was_requested=step.is_accept)  # fmt: skip
        if step.is_accept:
            self._followers.remember(driver, nk)
        return change

    def cancel_trip(self, *, rider: str, nk: str, session_id: int | None = None) -> Change:
        now = self._clock()
        with self._db.unit_of_work(write=True) as session:
            won = _compare_and_set(session, _CANCEL, nk, rider, CANCELABLE_STATUSES, TripStatus.CANCELED, now)
            trip, has_stuck = _load_stepped_trip(session, nk, now)
            if trip.rider.username != rider:
                raise TripNotFound("no such trip")
            if not won:
                raise explain_refused_cancel(status=TripStatus(trip.status))
            # A trip canceled with no driver was REQUESTED (only an accept gives it one).
            return _logged(session, trip, has_stuck, actor=rider, role=Role.RIDER, session_id=session_id, now=now,
                           was_requested=trip.driver_id is None)  # fmt: skip

    def get_trip(self, *, user: str, nk: str) -> dict:
        with self._db.unit_of_work(write=False) as session:
            return trip_view(_viewable_trip(session, user, nk))

    def trip_history(self, *, user: str, nk: str) -> list[dict]:
        """The trip's events, oldest first, for whoever may see the trip itself."""
        with self._db.unit_of_work(write=False) as session:
            return trip_log.events_of(session, _viewable_trip(session, user, nk))

    def list_trips(self, *, user: str, active: bool = False) -> list[dict]:
        with self._db.unit_of_work(write=False) as session:
            viewer = _load_user(session, user)
            mine = Trip.rider_id if viewer.role == Role.RIDER.value else Trip.driver_id
            query = select(Trip).where(mine == viewer.id).order_by(Trip.created.desc(), Trip.id.desc())
            if active:
                query = query.where(Trip.status.not_in([s.value for s in FINAL_STATUSES]))
            return [trip_view(trip) for trip in session.scalars(query)]

    def available_trips(self, *, user: str) -> list[dict]:
        """The REQUESTED trips open to the driver: those without a location, and those offered to him."""
        with self._db.unit_of_work(write=False) as session:
            return [trip_view(trip) for trip in session.scalars(_AVAILABLE, {"username": user})]

    def known_follower(self, *, user: str, nk: str) -> bool:
        """A yes this process has seen (its rider asked for it, or its driver accepted it),
        answered from memory without I/O, so the reactor thread may ask it directly; a False
        means "ask may_follow_trip", not "no"."""
        return self._followers.knows(user, nk)

    def may_follow_trip(self, *, user: str, nk: str) -> bool:
        """Whether ``user`` may subscribe to the trip's events: its rider or its driver only."""
        if self.known_follower(user=user, nk=nk):
            return True
        with self._db.unit_of_work(write=False) as session:
            allowed = session.scalar(_FOLLOWED_TRIP, {"username": user, "nk": nk}) is not None
        if allowed:
            self._followers.remember(user, nk)
        return allowed


# The statements of the busiest use cases are built once, here, with their values bound at
# each execution: building a statement anew on every call cost about as much as running it.
# "trip_nk", not "nk": in an UPDATE a bound name may not be a column's.
_USER = select(User).where(User.username == bindparam("username"))
_USER_ID = select(User.id).where(User.username == bindparam("username")).scalar_subquery()  # NULL if none
_TRIP = select(Trip).where(Trip.nk == bindparam("nk")).execution_options(populate_existing=True)
_STEPPED_TRIP = (
    select(Trip, trip_log.HAS_STUCK).where(Trip.nk == bindparam("nk")).execution_options(populate_existing=True)
)
_FOLLOWED_TRIP = select(Trip.id).where(
    Trip.nk == bindparam("nk"), or_(Trip.rider_id == _USER_ID, Trip.driver_id == _USER_ID)
)
_AVAILABLE = (
    select(Trip)
    .where(Trip.status == TripStatus.REQUESTED.value, positions.open_to_caller())
    .order_by(Trip.created.asc(), Trip.id.asc())
)


def _conditional_update(owner, **values):
    return (
        update(Trip)
        .where(Trip.nk == bindparam("trip_nk"), Trip.status.in_(bindparam("from_statuses", expanding=True)), owner)
        .values(
            status=bindparam("to_status"), updated=bindparam("now", type_=UTCDateTime()), seq=Trip.seq + 1, **values
        )
        .execution_options(synchronize_session=False)
    )


# The caller ("username") is named inside each statement. A driver's step (domain.DriverStep)
# is one statement per "its driver must be": nobody (the accept, which makes the caller its
# driver, if the trip is open to him: domain.open_to) or the caller; the step's source status
# is bound at execution. A cancel needs the caller to be the trip's rider.
_DRIVER_STEP = {
    Driver.NOBODY: _conditional_update(
        and_(Trip.driver_id.is_(None), _USER_ID.is_not(None), positions.open_to_caller()), driver_id=_USER_ID
    ),
    Driver.CALLER: _conditional_update(Trip.driver_id == _USER_ID),
}
_CANCEL = _conditional_update(Trip.rider_id == _USER_ID)


def _load_user(session: Session, username: str) -> User:
    user = session.scalar(_USER, {"username": username})
    if user is None:
        # The router vouched for this authid, so the account must exist.
        raise LookupError(f"authenticated user {username!r} has no account")
    return user


def _load_trip(session: Session, nk: str) -> Trip:
    trip = session.scalar(_TRIP, {"nk": nk})
    if trip is None:
        raise TripNotFound("no such trip")
    return trip


def _load_stepped_trip(session: Session, nk: str, now) -> tuple[Trip, bool]:
    """The trip after a step, and whether older events of it are stuck in the outbox."""
    row = session.execute(_STEPPED_TRIP, {"nk": nk, "before": stuck_before(now)}).first()
    if row is None:
        raise TripNotFound("no such trip")
    return row.Trip, bool(row.has_stuck)


def _viewable_trip(session: Session, user: str, nk: str) -> Trip:
    viewer = _load_user(session, user)
    trip = _load_trip(session, nk)
    if not may_view(
        status=TripStatus(trip.status),
        rider_id=trip.rider_id,
        driver_id=trip.driver_id,
        viewer_id=viewer.id,
        viewer_role=Role(viewer.role),
        open_to_viewer=dispatching.open_to_user(session, trip, viewer.id),
    ):
        raise TripNotFound("no such trip")
    return trip


def _logged(
    session: Session, trip: Trip, has_stuck: bool, *, actor: str, role: Role, session_id, now, was_requested: bool
) -> Change:
    """The step's event appended to the log, after the trip's older stuck ones; `was_requested`:
    whether the trip was up for grabs until this step (what its drivers hear of it depends on it)."""
    stuck = trip_log.stuck_before_step(session, trip, now) if has_stuck else []
    notices = dispatching.drivers_told(session, trip, was_requested=was_requested)
    event = trip_log.record(session, trip, actor=actor, role=role.value, session_id=session_id, now=now, notices=notices)
    return Change(event.trip, (*stuck, event))


def _find_request(session: Session, rider_id: int, request_id: str) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.rider_id == rider_id, Trip.request_id == request_id))


def _compare_and_set(session: Session, statement, nk: str, caller: str, from_statuses, to_status, now) -> bool:
    """One conditional UPDATE (one of _DRIVER_STEP, or _CANCEL): it changes the row only if
    the trip is still as expected, and its row count says whether it did.

    Of any number of concurrent callers exactly one can match the row, on SQLite (one
    writer at a time) and on PostgreSQL (the UPDATE re-checks its WHERE on the row after
    waiting for the other writer's lock), so there is no window to lose a race in.
    """
    values = {"from_statuses": [s.value for s in from_statuses], "to_status": to_status.value, "now": now}
    # On the session's connection, as plain SQL: the ORM's bulk-UPDATE path would only add
    # work here (nothing in the session to synchronise), and it cost as much as the UPDATE.
    return session.connection().execute(statement, {"trip_nk": nk, "username": caller, **values}).rowcount == 1
