"""The reconnect storm's drivers (storm.py; tests/faults/test_reconnect_storm.py): each a client of
taxi.client that, as a real driver's app would, logs in with its device key (or its ticket),
subscribes to taxi.drivers and, whenever the connection drops, tries again by itself after a
short, jittered backoff, until it is back and subscribed.

Why not Autobahn's Component, as the faults' Peer: it has no hook between joining and being
subscribed, and the storm's figure is the moment a driver is subscribed again; and it retries
at fixed steps, while a herd of 2,000 needs the jitter to spread over the router's first seconds.

The drivers are put into the database directly (`seed`), not signed up and logged in over the
wire to add their devices: that would be two argon2 computations a driver (0.2-0.3 s of CPU
each here, 15 minutes for 2,000 on two cores) before anything is measured. Every driver's
password hash is one real argon2id hash with the backend's parameters, so a ticket login still
costs what it costs; the devices are added through the use case (taxi_core.device_services).
"""

from __future__ import annotations

import os
import random
import time

from argon2 import PasswordHasher
from autobahn.wamp.cryptosign import CryptosignKey
from twisted.internet import defer, task, threads

from components import uris
from taxi import client
from taxi_core.db import Database
from taxi_core.device_services import DeviceService
from taxi_core.services import TaxiService

PASSWORD = "storm-password-0123"
FIRST_DELAY = 0.25  # seconds before the first try again; then GROWTH times longer, up to MAX_DELAY
GROWTH = 1.5
MAX_DELAY = 2.0
JITTER = 0.5  # each wait is drawn from [1 - JITTER, 1] times the delay
# A ticket login waits behind every other one's argon2 in the backend's pool; a key's does not.
JOIN_TIMEOUT = {"device": 30, "ticket": 600}

now = time.perf_counter


class _HashedOnce:
    """Every seeded user has the same password; its argon2id hash (PasswordHasher's defaults,
    as the backend's) is computed once instead of once a user. Any other (TaxiService's decoy)
    is hashed as usual."""

    def __init__(self):
        self._hasher = PasswordHasher()
        self._hash = self._hasher.hash(PASSWORD)

    def hash(self, password: str) -> str:
        return self._hash if password == PASSWORD else self._hasher.hash(password)


def seed(database_url: str, drivers: list[str], riders: list[str]) -> dict[str, CryptosignKey]:
    """Signs up the drivers and riders (blocking: run it in a thread) and adds a device to each
    driver; returns each driver's device key, whose private half only this process knows."""
    database = Database.from_url(database_url, pool_size=1)
    try:
        users, devices = TaxiService(database, hasher=_HashedOnce()), DeviceService(database)
        keys = {}
        for name in drivers:
            users.signup(username=name, password=PASSWORD, role="driver")
            keys[name] = CryptosignKey.from_bytes(os.urandom(32))
            devices.add_device(user=name, public_key=keys[name].public_key(), name="storm")
        for name in riders:
            users.signup(username=name, password=PASSWORD, role="rider")
        return keys
    finally:
        database.dispose()


def seed_in_thread(database_url: str, drivers: list[str], riders: list[str]) -> defer.Deferred:
    return threads.deferToThread(seed, database_url, drivers, riders)


class Driver:
    """One driver's app: logged in with `key` (or, if None, PASSWORD as a ticket) and subscribed
    to taxi.drivers, or trying to be. `subscribed_at`: every moment (perf_counter) it was
    subscribed again; `heard`: the pick-up addresses of the trips it was told of."""

    def __init__(self, reactor, url: str, name: str, key: CryptosignKey | None, serializer: str = "msgpack"):
        self.reactor, self.url, self.name, self.key, self.serializer = reactor, url, name, key, serializer
        self.subscribed_at: list[float] = []
        self.heard: list[str] = []
        self.failed_tries = 0
        self.last_error: BaseException | None = None
        self.session: client.Client | None = None
        self._stopped = False

    def start(self) -> None:
        defer.ensureDeferred(self._keep_up())

    async def _keep_up(self) -> None:
        delay = FIRST_DELAY
        while not self._stopped:
            try:
                session = await self._join()
            except Exception as error:
                self.failed_tries += 1
                self.last_error = error
                await task.deferLater(self.reactor, delay * random.uniform(1 - JITTER, 1), lambda: None)
                delay = min(delay * GROWTH, MAX_DELAY)
                continue
            delay = FIRST_DELAY
            if self._stopped:
                await session.close()
                return
            self.session = session
            self.subscribed_at.append(now())
            gone = defer.Deferred()
            session.disconnected.addBoth(lambda result: (gone.callback(None), result)[1])
            await gone
            self.session = None

    async def _join(self) -> client.Client:
        login = {"key": self.key} if self.key is not None else {"ticket": PASSWORD}
        session = await client.connect(
            self.url, authid=self.name, serializers=[client.SERIALIZERS[self.serializer]()], reactor=self.reactor,
            timeout=JOIN_TIMEOUT["device" if self.key is not None else "ticket"], **login,
        )  # fmt: skip
        try:
            await session.subscribe(self._on_trip, uris.DRIVERS_TOPIC)
        except Exception:
            await session.close()
            raise
        return session

    def _on_trip(self, trip, *args, **notice) -> None:
        self.heard.append(trip.get("pick_up_address", "") if isinstance(trip, dict) else "")

    def stop(self) -> defer.Deferred:
        self._stopped = True
        return self.session.close() if self.session is not None else defer.succeed(None)


class Fleet:
    """N drivers; `back_since(moment)`: when each was first subscribed again after `moment`."""

    def __init__(self, reactor, url: str, keys: dict[str, CryptosignKey | None], serializer: str = "msgpack"):
        self.reactor = reactor
        self.drivers = [Driver(reactor, url, name, key, serializer) for name, key in keys.items()]

    def __len__(self) -> int:
        return len(self.drivers)

    async def start(self, progress=None) -> list[float]:
        """Every driver connects at once; returns once each is subscribed (or gave up waiting)."""
        started = now()
        for driver in self.drivers:
            driver.start()
        return await self.wait_back(started, progress, timeout=max(JOIN_TIMEOUT.values()))

    def back_since(self, moment: float) -> list[float]:
        """Seconds from `moment` until each driver that is back was subscribed again, sorted."""
        return sorted(next(t for t in d.subscribed_at if t > moment) - moment
                      for d in self.drivers if d.subscribed_at and d.subscribed_at[-1] > moment)  # fmt: skip

    async def wait_back(self, moment: float, progress=None, timeout: float = 60, poll=lambda: None) -> list[float]:
        """Waits until every driver is subscribed again after `moment`, or `timeout` seconds have
        passed; `poll()` is called every 50 ms meanwhile, and `progress` (a tqdm) shown the count.
        Returns back_since(moment)."""
        deadline = now() + timeout
        while True:
            back = self.back_since(moment)
            if progress is not None:
                progress.update(len(back) - progress.n)
            if len(back) == len(self.drivers) or now() > deadline:
                return back
            poll()
            await task.deferLater(self.reactor, 0.05, lambda: None)

    async def tell_of_a_trip(self, rider: str, mark: str, timeout: float = 30) -> int:
        """`rider` (a seeded one) requests a trip picking up at `mark`: how many of the drivers are
        told of it on taxi.drivers within `timeout` seconds. The trip is cancelled afterwards."""
        session = await client.connect(self.drivers[0].url, authid=rider, ticket=PASSWORD, reactor=self.reactor,
                                       timeout=JOIN_TIMEOUT["ticket"])  # fmt: skip
        try:
            trip = await session.call(uris.TRIP_REQUEST, pick_up_address=mark, drop_off_address="Station")
            deadline = now() + timeout
            while self.heard(mark) < len(self.drivers) and now() < deadline:
                await task.deferLater(self.reactor, 0.05, lambda: None)
            await session.call(uris.TRIP_CANCEL, nk=trip["nk"])
            return self.heard(mark)
        finally:
            await session.close()

    def heard(self, mark: str) -> int:
        """How many drivers were told of a trip whose pick-up address is `mark`."""
        return sum(mark in driver.heard for driver in self.drivers)

    def failed_tries(self) -> int:
        return sum(driver.failed_tries for driver in self.drivers)

    def errors(self) -> dict[str, int]:
        """The last error of each driver that had one, by kind: why tries failed."""
        counts: dict[str, int] = {}
        for driver in self.drivers:
            if driver.last_error is not None:
                error = driver.last_error
                kind = getattr(error, "error", None) or type(error).__name__
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def stop(self) -> defer.Deferred:
        return defer.gatherResults([driver.stop() for driver in self.drivers], consumeErrors=True)
