"""The city's riders: R sessions requesting, between them, at `rate` a second (a Poisson
process) from random places in the city, each request followed on its trip's topic until it
ends (COMPLETED, or EXPIRED when nobody took it)."""

from __future__ import annotations

import random
import time
from functools import partial

from autobahn.wamp.types import SubscribeOptions
from twisted.internet import defer, task

from components import uris
from taxi import client

from .ledger import ENDINGS, Ledger
from .model import City

LOGINS_AT_ONCE = 16
# A request ends by TAXI_REQUEST_TIMEOUT_SECONDS (default 120) at the latest; past this, the
# bench stops waiting for it and reports it unended.
TRIP_TIMEOUT = 180.0


class Riders:
    def __init__(self, reactor, ledger: Ledger, city: City, rng: random.Random, clock=time.perf_counter,
                 trip_timeout: float = TRIP_TIMEOUT):  # fmt: skip
        self._reactor, self.ledger, self._city, self._rng, self._clock = reactor, ledger, city, rng, clock
        self._trip_timeout = trip_timeout
        self.sessions: list[client.Client] = []

    async def log_in(self, names: list[str], connect, progress) -> None:
        limit = defer.DeferredSemaphore(LOGINS_AT_ONCE)

        async def one(name: str) -> client.Client:
            session = await connect(name)
            progress.update(1)
            return session

        self.sessions = await defer.gatherResults(
            [limit.run(lambda name=name: defer.ensureDeferred(one(name))) for name in names], consumeErrors=True
        )

    async def run(self, request_times, progress, first: int = 0) -> float:
        """A request at each of `request_times` (seconds from now), the riders taking turns;
        returns once every trip has ended (or was given up on): the seconds it took. The
        requests are numbered from `first` (their request_ids must not repeat a run's)."""
        started = self._clock()
        trips = []
        for k, at in enumerate(request_times, start=first):
            wait = started + at - self._clock()
            if wait > 0:
                await task.deferLater(self._reactor, wait, lambda: None)
            trips.append(defer.ensureDeferred(self._trip(k, self.sessions[k % len(self.sessions)], progress)))
        await defer.DeferredList(trips)
        return self._clock() - started

    async def _trip(self, k: int, rider: client.Client, progress) -> None:
        where = self._city.random_point(self._rng)
        requested_at = self._clock()
        try:
            trip = await rider.call(
                uris.TRIP_REQUEST,
                pick_up_address=f"{self.ledger.tag} request {k}, {where.lat:.5f} {where.lng:.5f}",
                drop_off_address=f"Central Station, platform {k % 12 + 1}",
                request_id=f"{self.ledger.tag}-{k}",
                pick_up_location={"lat": where.lat, "lng": where.lng},
            )
        except Exception as error:
            self.ledger.failed(uris.TRIP_REQUEST, error)
            return
        nk = trip["nk"]
        record = self.ledger.trip(nk)
        record.requested_at, record.result_at = requested_at, self._clock()
        subscription = await rider.subscribe(
            partial(self._on_trip, nk), uris.trip_topic(nk), options=SubscribeOptions(get_retained=True)
        )
        try:
            await _within(record.ended, self._trip_timeout, self._reactor)
        except defer.TimeoutError:
            self.ledger.failed(f"trip {nk}", TimeoutError(f"not ended after {self._trip_timeout:g}s"))
        finally:
            await subscription.unsubscribe()
            progress.update(1)

    def _on_trip(self, nk: str, trip: dict) -> None:
        self.ledger.rider_deliveries += 1
        if trip["status"] in ENDINGS:
            self.ledger.end(nk, trip["status"], self._clock())

    def close(self) -> None:
        for session in self.sessions:
            if session.is_attached():
                session.leave()


def _within(d: defer.Deferred, seconds: float, reactor) -> defer.Deferred:
    """A Deferred that fires as `d` does, or fails with TimeoutError after `seconds`, leaving `d` alone."""
    copy = defer.Deferred()

    def fire(result):
        if not copy.called:
            copy.callback(result)
        return result

    d.addBoth(fire)
    return copy.addTimeout(seconds, reactor)
