"""A small Jepsen-style harness: clients that record every operation, and a load of trips.

Every attempt at an operation goes into a History as ok (acknowledged), failed (the
service said it did nothing) or unknown (no answer, or an answer that cannot tell:
the connection dropped, the call timed out, the callee vanished, taxi.error.internal).
Clients retry what may be retried with the same request_id, as the contract invites,
and an unknown outcome is later resolved by asking trip.get. Deliveries records what the
subscribers received. tests/faults/check.py then holds both against the database.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import SubscribeOptions
from twisted.internet import defer

from components.uris import DRIVERS_TOPIC, trip_topic

from ..support.wamp import sleep
from .peer import NotAttached, Peer

OP_DEADLINE = 120  # a client gives up retrying one operation after this long

# Errors that say the call did nothing and will do nothing if sent again unchanged.
FINAL = {
    "taxi.error.trip_taken",
    "taxi.error.invalid_transition",
    "taxi.error.not_found",
    "taxi.error.invalid_argument",
    "wamp.error.not_authorized",
    "wamp.error.invalid_argument",
}
# Errors that say the call did nothing, but might work a moment later (no callee yet).
NOT_DONE_YET = {"wamp.error.no_such_procedure", "wamp.error.no_such_registration"}


@dataclass
class Op:
    """One attempt: `key` is the request_id of a trip.request, the nk of an accept."""

    kind: str  # "request" | "accept" | "get"
    process: str  # the username making it
    key: str
    attempt: int
    invoked: float
    completed: float
    outcome: str  # "ok" | "failed" | "unknown"
    result: Any  # ok: the trip; otherwise the error URI or exception name


@dataclass
class History:
    ops: list[Op] = field(default_factory=list)
    # (kind, process, key) of an operation that had an unknown attempt -> trip.get's answer
    # (None: nothing to ask about, as for a request that was never acknowledged)
    resolutions: dict[tuple, Op | None] = field(default_factory=dict)

    def add(self, op: Op) -> None:
        self.ops.append(op)

    def attempts(self, outcome: str | None = None) -> list[Op]:
        return [op for op in self.ops if op.kind != "get" and (outcome is None or op.outcome == outcome)]

    def operations(self) -> dict[tuple, list[Op]]:
        """Every logical operation, (kind, process, key), with its attempts in order."""
        grouped: dict[tuple, list[Op]] = {}
        for op in self.ops:
            if op.kind != "get":
                grouped.setdefault((op.kind, op.process, op.key), []).append(op)
        return grouped

    def first_ok_after(self, moment: float) -> float | None:
        done = [op.completed for op in self.attempts("ok") if op.invoked >= moment]
        return min(done, default=None)

    def errors_between(self, start: float, end: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.attempts():
            # Lost races and the like are answers, not faults.
            if op.outcome != "ok" and op.result not in FINAL and start <= op.completed <= end:
                counts[str(op.result)] = counts.get(str(op.result), 0) + 1
        return counts


def _classify(error: Exception) -> tuple[str, str]:
    if isinstance(error, ApplicationError):
        if error.error in FINAL or error.error in NOT_DONE_YET:
            return "failed", error.error
        return "unknown", error.error  # taxi.error.internal, wamp.error.canceled, wamp.close.*
    if isinstance(error, NotAttached):
        return "failed", "not attached"  # nothing was sent
    return "unknown", type(error).__name__


def _trip(result: dict) -> dict:
    """What the history keeps of a trip."""
    return {
        "nk": result["nk"],
        "status": result["status"],
        "rider": (result.get("rider") or {}).get("username"),
        "driver": (result.get("driver") or {}).get("username"),
    }


async def perform(history: History, peer: Peer, kind: str, key: str, procedure: str, **kwargs) -> Op:
    """Make one operation happen: retry until it is acknowledged, finally refused, or the deadline passes."""
    deadline = time.monotonic() + OP_DEADLINE
    backoff = 0.05
    for attempt in itertools.count(1):
        if peer.session is None:
            try:
                await peer.attached(max(deadline - time.monotonic(), 0.1))
            except Exception:
                pass
        invoked = time.monotonic()
        try:
            result = _trip(await peer.call(procedure, **kwargs))
            outcome = "ok"
        except Exception as error:
            outcome, result = _classify(error)
        op = Op(kind, peer.name, key, attempt, invoked, time.monotonic(), outcome, result)
        history.add(op)
        if outcome == "ok" or result in FINAL or time.monotonic() > deadline:
            return op
        await sleep(backoff)
        backoff = min(backoff * 2, 1.0)


@dataclass
class Delivery:
    subscriber: str  # the username
    topic: str
    trip: dict  # the event: the trip as after its change number trip["seq"]
    retained: bool  # handed over on subscribing, not published while subscribed
    notice: dict = field(default_factory=dict)  # an offer's keyword arguments on taxi.drivers: offer=, expires=
    at: float = field(default_factory=time.monotonic)  # when it arrived


class Deliveries:
    """Every event the subscribers received, in order of arrival: drivers on taxi.drivers from
    before the load, each rider on the topic of every trip it is given (TripLoad's `follow`)."""

    def __init__(self, on_delivery: Callable[[Delivery], None] | None = None):
        self.received: list[Delivery] = []
        self.drivers: list[str] = []
        self.followed: dict[str, str] = {}  # nk -> the rider following it
        self._on_delivery = on_delivery  # a client's reaction to what it receives (an accept)

    async def follow_drivers(self, drivers: list[Peer]) -> None:
        for driver in drivers:
            await self._subscribe(driver, DRIVERS_TOPIC, get_retained=False)
            self.drivers.append(driver.name)

    async def follow_trip(self, rider: Peer, nk: str) -> None:
        # get_retained: the trip's first event may well have been published before this.
        await self._subscribe(rider, trip_topic(nk), get_retained=True)
        self.followed[nk] = rider.name

    async def _subscribe(self, peer: Peer, topic: str, get_retained: bool) -> None:
        """Subscribes, retrying as perform() does: the router asks the backend (its authorizer),
        which may be down for a moment."""

        def received(trip, details, **notice):
            delivery = Delivery(peer.name, topic, trip, bool(details.retained), notice)
            self.received.append(delivery)
            if self._on_delivery is not None:
                self._on_delivery(delivery)

        options = SubscribeOptions(details=True, get_retained=get_retained)
        deadline = time.monotonic() + OP_DEADLINE
        backoff = 0.05
        while True:
            try:
                session = await peer.attached(max(deadline - time.monotonic(), 0.1))
                await session.subscribe(received, topic, options=options)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
            await sleep(backoff)
            backoff = min(backoff * 2, 1.0)


class TripLoad:
    """Riders request trips side by side (each with its own request_ids); every trip a rider
    is given is raced for by `racers` drivers at once. `follow(rider, nk)`, if given, is awaited
    once the rider has its trip and before the drivers race for it."""

    def __init__(
        self, history: History, riders: list[Peer], drivers: list[Peer], requests: int, racers: int = 2,
        follow: Callable[[Peer, str], Awaitable[None]] | None = None,
    ):  # fmt: skip
        self.history = history
        self.follow = follow
        self.riders = riders
        self.drivers = drivers
        self.requests = requests
        self.racers = racers
        self.completed = 0
        self._milestones: list[tuple[int, defer.Deferred]] = []
        self._run_id = secrets.token_hex(4)
        self.seconds = 0.0  # how long the load took, once it is over

    def reached(self, fraction: float) -> defer.Deferred:
        """Fires once `fraction` of the trip requests have been answered for good."""
        d = defer.Deferred()
        self._milestones.append((int(self.requests * fraction), d))
        self._check_milestones()
        return d

    def _check_milestones(self):
        for count, d in self._milestones:
            if self.completed >= count and not d.called:
                d.callback(self.completed)

    async def run(self) -> None:
        started = time.monotonic()
        try:
            await self._run()
        finally:
            self.seconds = time.monotonic() - started

    async def _run(self) -> None:
        shares = [self.requests // len(self.riders)] * len(self.riders)
        for i in range(self.requests % len(self.riders)):
            shares[i] += 1
        rides = [defer.ensureDeferred(self._ride(rider, n)) for rider, n in zip(self.riders, shares)]
        await defer.gatherResults(rides, consumeErrors=True)

    async def _ride(self, rider: Peer, n: int) -> None:
        for i in range(n):
            request_id = f"{self._run_id}-{rider.name}-{i}"
            op = await perform(
                self.history, rider, "request", request_id, "trip.request",
                pick_up_address=f"Pick-up {i}", drop_off_address="Station", request_id=request_id,
            )  # fmt: skip
            self.completed += 1
            self._check_milestones()
            if op.outcome == "ok":
                nk = op.result["nk"]
                if self.follow is not None:
                    await self.follow(rider, nk)
                racers = random.sample(self.drivers, min(self.racers, len(self.drivers)))
                accepts = [
                    defer.ensureDeferred(
                        perform(self.history, driver, "accept", nk, "trip.update", nk=nk, status="STARTED")
                    )
                    for driver in racers
                ]
                await defer.gatherResults(accepts, consumeErrors=True)


async def resolve_unknowns(history: History, peers: dict[str, Peer]) -> None:
    """Ask trip.get about every operation with an unknown attempt, as the client that made it."""
    for (kind, process, key), attempts in history.operations().items():
        if all(op.outcome != "unknown" for op in attempts):
            continue
        acknowledged = [op for op in attempts if op.outcome == "ok"]
        nk = key if kind == "accept" else (acknowledged[-1].result["nk"] if acknowledged else None)
        answer = None
        if nk is not None:
            answer = await perform(history, peers[process], "get", nk, "trip.get", nk=nk)
        history.resolutions[(kind, process, key)] = answer
