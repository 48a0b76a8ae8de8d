"""The floor's backend: the same procedures and taxi.auth.* on the same backend transport, from memory.

It is taxi's own backend with the database taken out: the same BackendConnection, the same
Authenticator and TripProcedures (so the same registrations, argument checks, events,
publish options and authorizer answers, cache flags included), over a service that keeps
users and trips in dicts and shapes them with taxi_core.views, so every payload has the
size taxi's would. What the benchmark measures against it is what the router, the
transports and the clients cost on their own. Benchmark-only: passwords are kept in clear.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, maybeDeferred

from components import backend
from components.auth import Authenticator
from components.backend import BackendConnection
from components.outbox import Publisher
from components.trips import TripProcedures
from taxi_core.config import Settings
from taxi_core.domain import (
    CANCELABLE_STATUSES,
    FINAL_STATUSES,
    AuthenticationFailed,
    Role,
    TripNotFound,
    TripStatus,
    UsernameTaken,
    driver_step,
    explain_refused_cancel,
    may_view,
)
from taxi_core.events import Publication, to_every_driver
from taxi_core.services import Change, RequestOutcome, utc_now
from taxi_core.views import trip_view, user_view


@dataclass
class MemoryUser:
    id: int
    username: str
    first_name: str
    last_name: str
    role: str
    password: str


@dataclass
class MemoryTrip:
    id: int
    nk: str
    created: dt.datetime
    updated: dt.datetime
    pick_up_address: str
    drop_off_address: str
    status: str
    request_id: str | None
    rider: MemoryUser
    driver: MemoryUser | None = None
    seq: int = 1
    history: list = None  # the trip's events (taxi_core.views.event_view's shape)
    # The floor's trips have no pick-up location: every driver hears of each (taxi_core.views reads these).
    pick_up_lat: float | None = None
    pick_up_lng: float | None = None


class MemoryService:
    """TaxiService's use cases over dicts: same arguments, same answers, same domain errors."""

    def __init__(self, clock=utc_now):
        self._clock = clock
        self._users: dict[str, MemoryUser] = {}
        self._trips: dict[str, MemoryTrip] = {}
        self._requests: dict[tuple[int, str], MemoryTrip] = {}
        self._ids = itertools.count(1)

    def signup(self, *, username, password, role, first_name="", last_name=""):
        if username in self._users:
            raise UsernameTaken(f"the username {username!r} is taken")
        user = MemoryUser(next(self._ids), username, first_name, last_name, Role(role).value, password)
        self._users[username] = user
        return user_view(user)

    def authenticate(self, *, username, password):
        user = self._users.get(username)
        if user is None or user.password != password:
            raise AuthenticationFailed("wrong username or password")
        return user_view(user)

    def request_trip(self, *, rider, pick_up_address, drop_off_address, request_id=None, session_id=None):
        rider_user = self._users[rider]
        earlier = self._requests.get((rider_user.id, request_id))
        if earlier is not None:
            return RequestOutcome(trip_view(earlier), created=False)
        now = self._clock()
        trip = MemoryTrip(
            next(self._ids), uuid.uuid4().hex, now, now, pick_up_address, drop_off_address,
            TripStatus.REQUESTED.value, request_id, rider_user,
        )  # fmt: skip
        self._trips[trip.nk] = trip
        if request_id is not None:
            self._requests[(rider_user.id, request_id)] = trip
        event = self._logged(trip, rider_user, session_id)
        return RequestOutcome(event.trip, created=True, events=(event,))

    def update_trip(self, *, driver, nk, status, session_id=None):
        step = driver_step(TripStatus(status))
        driver_user, trip = self._users[driver], self._trip(nk)
        as_is = dict(
            status=TripStatus(trip.status), driver_id=trip.driver.id if trip.driver else None, caller_id=driver_user.id
        )
        if not step.applies_to(**as_is):
            raise step.refusal(**as_is)
        trip.status, trip.driver, trip.updated = step.target.value, driver_user, self._clock()
        return Change(trip_view(trip), (self._logged(trip, driver_user, session_id, step=True),))

    def cancel_trip(self, *, rider, nk, session_id=None):
        trip = self._trip(nk)
        if trip.rider.username != rider:
            raise TripNotFound("no such trip")
        if TripStatus(trip.status) not in CANCELABLE_STATUSES:
            raise explain_refused_cancel(status=TripStatus(trip.status))
        trip.status, trip.updated = TripStatus.CANCELED.value, self._clock()
        return Change(trip_view(trip), (self._logged(trip, trip.rider, session_id, step=True),))

    def _logged(self, trip: MemoryTrip, actor: MemoryUser, session_id, *, step: bool = False) -> Publication:
        if step:
            trip.seq += 1
        event = {"seq": trip.seq, "status": trip.status, "actor": {"authid": actor.username, "role": actor.role},
                 "session": session_id, "created": trip.updated.isoformat()}  # fmt: skip
        trip.history = [*(trip.history or []), event]
        view = trip_view(trip)
        # The floor's trips have no location: what every driver hears of, as of taxi's unlocated ones.
        notices = to_every_driver(TripStatus(trip.status))
        return Publication(next(self._ids), trip.nk, trip.seq, view, notices=notices)

    def trip_history(self, *, user, nk):
        self.get_trip(user=user, nk=nk)
        return list(self._trip(nk).history)

    def get_trip(self, *, user, nk):
        viewer, trip = self._users[user], self._trip(nk)
        driver_id = trip.driver.id if trip.driver else None
        if not may_view(
            status=TripStatus(trip.status), rider_id=trip.rider.id, driver_id=driver_id,
            viewer_id=viewer.id, viewer_role=Role(viewer.role),
        ):  # fmt: skip
            raise TripNotFound("no such trip")
        return trip_view(trip)

    def list_trips(self, *, user, active=False):
        viewer = self._users[user]
        final = {s.value for s in FINAL_STATUSES}
        mine = [t for t in self._trips.values() if viewer in (t.rider, t.driver) and not (active and t.status in final)]
        return [trip_view(t) for t in sorted(mine, key=lambda t: (t.created, t.id), reverse=True)]

    def available_trips(self, *, user):
        waiting = [t for t in self._trips.values() if t.status == TripStatus.REQUESTED.value]
        return [trip_view(t) for t in sorted(waiting, key=lambda t: (t.created, t.id))]

    def known_follower(self, *, user, nk):
        return self.may_follow_trip(user=user, nk=nk)

    def may_follow_trip(self, *, user, nk):
        follower, trip = self._users.get(user), self._trips.get(nk)
        return follower is not None and trip is not None and follower in (trip.rider, trip.driver)

    def _trip(self, nk) -> MemoryTrip:
        try:
            return self._trips[nk]
        except KeyError:
            raise TripNotFound("no such trip") from None


class MemoryOutbox:
    """Nothing to forget: the floor's events are never kept."""

    def forget(self, event_ids) -> None:
        pass


class InlinePool:
    """DBPool's interface, but the work runs at once on the reactor thread: there is no I/O to wait for."""

    def run(self, fn, *args, **kwargs) -> Deferred:
        return maybeDeferred(fn, *args, **kwargs)


def make_stub_backend(reactor, settings: Settings) -> MultiService:
    service, pool = MemoryService(), InlinePool()
    stub = MultiService()
    handlers = [Authenticator(service, pool), TripProcedures(service, pool, Publisher(MemoryOutbox(), pool, reactor))]
    BackendConnection(reactor, settings, handlers).setServiceParent(stub)
    return stub


if __name__ == "__main__":
    backend.main(make=make_stub_backend)
