"""The benchmark's clients: D drivers on taxi.drivers, R riders making T trips each, one after another.

One trip, as a user's clients would play it (docs/contract.md):

  rider  call trip.request ─────────────► result                  (a) call → result
         every driver gets the trip on taxi.drivers               (b) call → the LAST driver alerted
  rider  subscribe taxi.trip.<nk> (get_retained)
  driver (the one whose turn it is) call trip.update STARTED      (c) accept call → rider alerted
         rider gets STARTED on taxi.trip.<nk>; every driver gets it on taxi.drivers
  driver call trip.update IN_PROGRESS, then COMPLETED; the rider gets both; unsubscribe; next trip

The driver waits for the rider's subscription before accepting (both live in this process), so
the accept is always a live event to the rider, in the floor's run and taxi's alike; which
driver accepts is fixed by the trip's nk, so no driver races another. All times are
time.perf_counter() in this one process.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from functools import partial

from autobahn.wamp.types import SubscribeOptions
from twisted.internet import defer

from components import uris
from taxi import client

PASSWORD = "bench-password-0123"
JOIN_TIMEOUT = 300  # logins queue behind argon2 in the backend's pool
TRIP_TIMEOUT = 120
LOGINS_AT_ONCE = 16

now = time.perf_counter


async def connect(reactor, url: str, serializer: str, authid=None, ticket=None) -> client.Client:
    """A user's session, through taxi's own client: anonymous, or with a ticket."""
    serializers = [client.SERIALIZERS[serializer]()]
    return await client.connect(
        url, authid=authid, ticket=ticket, serializers=serializers, timeout=JOIN_TIMEOUT, reactor=reactor
    )


@dataclass
class TripTrace:
    """One trip's timestamps and the alerts that reached the drivers."""

    requested_at: float = 0.0
    result_at: float = 0.0
    accept_at: float = 0.0
    rider_alerted_at: float = 0.0
    requested_alerts: int = 0
    last_requested_alert_at: float = 0.0
    taken_alerts: int = 0
    duplicates: int = 0  # events a driver or the rider had already seen (delivery is at least once)
    seen: set = field(default_factory=set)  # (driver n, seq) of the drivers' alerts so far
    subscribed: defer.Deferred = field(default_factory=defer.Deferred)
    completed: defer.Deferred = field(default_factory=defer.Deferred)


class Workload:
    def __init__(self, reactor, url: str, *, drivers: int, riders: int, serializer: str = "msgpack"):
        self.reactor, self.url, self.serializer = reactor, url, serializer
        self.n_drivers, self.n_riders = drivers, riders
        self.tag = f"bench-{secrets.token_hex(4)}"  # this run's users and trips, on a node others may use
        self.drivers: list[client.Client] = []
        self.riders: list[client.Client] = []
        self.traces: dict[str, TripTrace] = {}
        self.errors: list[BaseException] = []
        self._request_ids = itertools.count()
        self._forgotten_duplicates = 0

    # --- before the clock runs ---

    async def sign_up(self, progress) -> None:
        """Every user through user.signup, as a user would; in parallel, the backend's pool sets the pace."""
        anonymous = await connect(self.reactor, self.url, self.serializer)
        limit = defer.DeferredSemaphore(LOGINS_AT_ONCE * 2)

        def signup(role, n):
            d = limit.run(anonymous.call, "user.signup", username=self._name(role, n), password=PASSWORD, role=role)
            return d.addCallback(lambda _: progress.update(1))

        calls = [signup("rider", n) for n in range(self.n_riders)]
        calls += [signup("driver", n) for n in range(self.n_drivers)]
        await defer.gatherResults(calls, consumeErrors=True)
        anonymous.leave()

    async def log_in_riders(self, progress) -> None:
        self.riders = await self._log_in("rider", self.n_riders, progress)

    async def log_in_drivers(self, progress) -> None:
        """Drivers log in and subscribe to taxi.drivers; then they sit idle until trips come."""
        self.drivers = await self._log_in("driver", self.n_drivers, progress, subscribe=True)

    async def _log_in(self, role: str, count: int, progress, subscribe: bool = False) -> list:
        limit = defer.DeferredSemaphore(LOGINS_AT_ONCE)

        async def one(n):
            session = await connect(self.reactor, self.url, self.serializer, self._name(role, n), PASSWORD)
            if subscribe:
                await session.subscribe(partial(self._on_driver_alert, n), uris.DRIVERS_TOPIC)
            progress.update(1)
            return session

        return await defer.gatherResults(
            [limit.run(lambda n=n: defer.ensureDeferred(one(n))) for n in range(count)], consumeErrors=True
        )

    def _name(self, role: str, n: int) -> str:
        return f"{self.tag}-{role}-{n}"

    # --- the timed part ---

    async def run(self, progress, trips: int) -> float:
        """Every rider makes `trips` trips in turn; returns the seconds it took. The traces pile up in self.traces."""
        started = now()
        await defer.gatherResults(
            [defer.ensureDeferred(self._ride(n, rider, trips, progress)) for n, rider in enumerate(self.riders)],
            consumeErrors=True,
        )
        return now() - started

    async def forget(self) -> None:
        """Drops the traces so far (the warm-up's), once their last alerts are in."""
        await self.settle()
        self._forgotten_duplicates = self.duplicates()
        self.traces = {}

    async def _ride(self, n: int, rider: client.Client, trips: int, progress) -> None:
        for _ in range(trips):
            k = next(self._request_ids)
            requested_at = now()
            trip = await rider.call(
                uris.TRIP_REQUEST,
                pick_up_address=f"{self.tag} rider {n}, 12 Bench Street",
                drop_off_address=f"Central Station, platform {k % 12 + 1}",
                request_id=f"{self.tag}-{n}-{k}",
            )
            trace = self._trace(trip["nk"])
            trace.requested_at, trace.result_at = requested_at, now()
            subscription = await rider.subscribe(
                partial(self._on_rider_event, trace), uris.trip_topic(trip["nk"]),
                options=SubscribeOptions(get_retained=True),
            )  # fmt: skip
            trace.subscribed.callback(None)
            await trace.completed.addTimeout(TRIP_TIMEOUT, self.reactor)
            await subscription.unsubscribe()
            progress.update(1)

    def _trace(self, nk: str) -> TripTrace:
        # A driver may hear of a trip before its rider has the call's result.
        trace = self.traces.get(nk)
        if trace is None:
            trace = self.traces[nk] = TripTrace()
        return trace

    def _on_driver_alert(self, n: int, trip: dict) -> None:
        at = now()
        if not trip["pick_up_address"].startswith(self.tag):
            return  # someone else's trip on a shared node
        trace = self._trace(trip["nk"])
        # Delivery is at least once: an event committed but not known to be published (the
        # backend stalled past its outbox lease) goes out again, with the same seq. A client
        # drops what it has seen (docs/contract.md); without this, a driver re-accepts a
        # trip it already started and gets invalid_transition. The floor's trips carry a seq too.
        if (n, trip["seq"]) in trace.seen:
            trace.duplicates += 1
            return
        trace.seen.add((n, trip["seq"]))
        if trip["status"] == "REQUESTED":
            trace.requested_alerts += 1
            trace.last_requested_alert_at = max(trace.last_requested_alert_at, at)
            if int(trip["nk"], 16) % self.n_drivers == n:
                defer.ensureDeferred(self._drive(self.drivers[n], trip["nk"], trace)).addErrback(self._failed, trace)
        elif trip["status"] == "STARTED":
            trace.taken_alerts += 1

    async def _drive(self, driver: client.Client, nk: str, trace: TripTrace) -> None:
        await trace.subscribed
        trace.accept_at = now()
        for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
            await driver.call(uris.TRIP_UPDATE, nk=nk, status=status)

    def _on_rider_event(self, trace: TripTrace, trip: dict) -> None:
        if trip["status"] == "STARTED" and not trace.rider_alerted_at:
            trace.rider_alerted_at = now()
        elif trip["status"] == "COMPLETED" and not trace.completed.called:
            trace.completed.callback(None)

    def _failed(self, failure, trace: TripTrace) -> None:
        self.errors.append(failure.value)
        if not trace.completed.called:
            trace.completed.errback(failure)

    # --- afterwards ---

    async def settle(self, timeout: float = 10) -> None:
        """Waits (a little) for the last accept alerts to reach every driver."""
        deadline = now() + timeout
        while now() < deadline and self.alerts_delivered() < self.alerts_expected():
            await defer.deferLater(self.reactor, 0.05, lambda: None)

    def alerts_expected(self) -> int:
        # Each trip is announced to every driver twice: when requested, and when taken.
        return 2 * len(self.traces) * self.n_drivers

    def alerts_delivered(self) -> int:
        return sum(t.requested_alerts + t.taken_alerts for t in self.traces.values())

    def duplicates(self) -> int:
        """Events dropped as already seen, over the whole run (the forgotten traces' too)."""
        return self._forgotten_duplicates + sum(t.duplicates for t in self.traces.values())

    def close(self) -> None:
        for session in self.riders + self.drivers:
            if session.is_attached():
                session.leave()
