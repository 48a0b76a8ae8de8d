"""The city's drivers: D sessions of taxi's own client (taxi/client.py) in this one process.

Kept cheap, since thousands share the bench's one reactor: one clock for all of them (a
LoopingCall every TICK), each driver owning a slot of the REPORT_EVERY period, so that the D
position updates are spread evenly over it, never all at once, with no timer per driver. A
driver goes online with his first driver.locate, and is available whenever he is neither
weighing an offer nor driving a trip.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from functools import partial

from autobahn.wamp.exception import ApplicationError
from twisted.internet import defer, task

from components import uris
from taxi import client

from .ledger import Ledger
from .model import Behaviour, City, Mover

REPORT_EVERY = 10.0  # seconds between one driver's position updates (issue 11)
TICK = 0.1
SLOTS = round(REPORT_EVERY / TICK)
LOGINS_AT_ONCE = 16
STEPS_AFTER_ACCEPT = ("IN_PROGRESS", "COMPLETED")  # the trip is driven through at once


@dataclass
class SimDriver:
    authid: str
    session: client.Client
    mover: Mover
    slot: int
    weighing: str | None = None  # the nk of the offer he is thinking about
    driving: bool = False

    @property
    def available(self) -> bool:
        return self.weighing is None and not self.driving


class Fleet:
    def __init__(self, reactor, ledger: Ledger, city: City, behaviour: Behaviour, rng: random.Random,
                 clock=time.perf_counter):  # fmt: skip
        self._reactor, self.ledger, self._city = reactor, ledger, city
        self._behaviour, self._rng, self._clock = behaviour, rng, clock
        self.drivers: list[SimDriver] = []
        self._slots: list[list[SimDriver]] = [[] for _ in range(SLOTS)]
        self._loop: task.LoopingCall | None = None
        self._started = self._first_tick = 0.0
        self._ticks = 0

    async def log_in(self, names: list[str], connect, progress) -> None:
        """Each driver joins (connect(name) -> a session) and subscribes to taxi.drivers."""
        limit = defer.DeferredSemaphore(LOGINS_AT_ONCE)

        async def one(name: str) -> SimDriver:
            session = await connect(name)
            driver = SimDriver(name, session, Mover(self._city, self._rng), slot=self._rng.randrange(SLOTS))
            await session.subscribe(partial(self._on_event, driver), uris.DRIVERS_TOPIC)
            progress.update(1)
            return driver

        self.drivers = await defer.gatherResults(
            [limit.run(lambda name=name: defer.ensureDeferred(one(name))) for name in names], consumeErrors=True
        )
        for driver in self.drivers:
            self._slots[driver.slot].append(driver)

    def start_reporting(self) -> None:
        self._started, self._ticks = self._clock(), 0
        self._loop = task.LoopingCall.withCount(self._tick)
        self._loop.clock = self._reactor
        self._loop.start(TICK, now=True)

    def stop_reporting(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def _tick(self, count: int) -> None:
        # `count` > 1: the reactor was late and ticks were skipped; their slots report now,
        # and the lag is the oldest one's. Ticks are counted from the first (LoopingCall's
        # withCount makes its first call one interval after the start).
        at = self._clock()
        if self._ticks == 0:
            self._first_tick = at
        self.ledger.tick_lag_seconds.append(max(0.0, at - (self._first_tick + self._ticks * TICK)))
        for _ in range(count):
            for driver in self._slots[self._ticks % SLOTS]:
                self._locate(driver, at)
            self._ticks += 1

    def _locate(self, driver: SimDriver, at: float) -> None:
        where = driver.mover.position(at - self._started)
        d = driver.session.call(uris.DRIVER_LOCATE, lat=where.lat, lng=where.lng)
        d.addCallbacks(self._located, partial(self._ledger_failure, uris.DRIVER_LOCATE), callbackArgs=(at,))

    def _located(self, _result, at: float) -> None:
        self.ledger.locates += 1
        self.ledger.locate_seconds.append(self._clock() - at)

    def _ledger_failure(self, what: str, failure) -> None:
        self.ledger.failed(what, failure.value)

    def _on_event(self, driver: SimDriver, trip: dict, offer: str | None = None, expires: str | None = None) -> None:
        if not self.ledger.ours(trip):
            return  # someone else's trip on a shared node
        self.ledger.delivered(driver.authid, self._clock(), trip, offer)
        if offer == "closed" and driver.weighing == trip["nk"]:
            driver.weighing = None  # his app took the offer away: nothing to accept any more
        elif offer == "open" and driver.available:
            think = self._behaviour.answer(self._rng)
            if think is not None:
                driver.weighing = trip["nk"]
                defer.ensureDeferred(self._take(driver, trip["nk"], think))

    async def _take(self, driver: SimDriver, nk: str, think: float) -> None:
        await task.deferLater(self._reactor, think, lambda: None)
        if driver.weighing != nk:
            return  # closed while he thought, and he may have moved on to another offer
        driver.weighing, driver.driving = None, True
        try:
            await self._drive(driver, nk)
        except Exception as error:
            self.ledger.failed(f"driver {driver.authid} on {nk}", error)
        finally:
            driver.driving = False

    async def _drive(self, driver: SimDriver, nk: str) -> None:
        try:
            await driver.session.call(uris.TRIP_UPDATE, nk=nk, status="STARTED")
        except ApplicationError as refused:  # another driver of the batch was quicker, say
            self.ledger.accepts_lost[refused.error] += 1
            return
        self.ledger.trip(nk).accepted_at = self._clock()
        for status in STEPS_AFTER_ACCEPT:
            await driver.session.call(uris.TRIP_UPDATE, nk=nk, status=status)

    def close(self) -> None:
        self.stop_reporting()
        for driver in self.drivers:
            if driver.session.is_attached():
                driver.session.leave()
