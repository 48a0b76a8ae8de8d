"""One point of the city: a node, its users, the phase of positions only, the trips, the audit.

1. A node of taxi's own (a new SQLite file, or --database-url), or --url's.
2. Every user signed up; straight into the database when the bench can reach it, with the
   cheapest argon2 parameters (each hash carries its own, so logging in is cheap too: 3,000
   logins at argon2's defaults would take minutes and measure nothing of dispatch); through
   user.signup otherwise. The riders log in, then the drivers, each subscribing to taxi.drivers.
3. The drivers start reporting; after one whole period every one of them is online.
4. Positions only, no trips, for --positions-seconds: the CPU of a position update.
5. Trips: requests at --rate until --trips (or --duration), then until every trip has ended.
6. The drivers stop reporting (they stay connected and subscribed); an idle phase of
   IDLE_SECONDS: what the processes cost with nobody calling (the router's WebSocket pings,
   the backend's dispatch and outbox ticks).
7. The trips again, as many, with the positions paused, then another idle phase: less the
   idle rate, what a trip alone costs each process with D drivers connected. The goal is
   judged on this figure: net of positions (step 5 less step 4's price per update)
   subtracts ten times what it keeps at 3,000 drivers, and the price of an update drifts
   between phases by more than a trip costs (docs/benchmarks.md). Not against --url: its
   node's drivers would go stale.
8. The audit of every offer event the drivers received (in 5 and 7) against the offers table.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from pathlib import Path

import psutil
from twisted.internet import task, threads

from components import uris
from taxi_core.db import Database
from taxi_core.services import TaxiService

from .. import workload
from ..cli import bar
from ..nodes import LocalNode, RemoteNode
from ..stats import ResourceSampler
from ..usecases import CHEAP_HASHER
from . import figures as city_figures
from .audit import audit, offers_in
from .drivers import REPORT_EVERY, Fleet
from .ledger import Ledger
from .model import Behaviour, City, arrivals
from .riders import Riders


# The trips again with the positions paused (step 7) rely on the drivers' last positions: the
# bench's own node keeps them fresh for this long instead of TAXI_DRIVER_STALE_SECONDS' 30 s.
# Drivers who report every 10 s never come near either bound in the phases before.
PAUSED_STALE_SECONDS = 900
# The idle phase: one auto-ping period of the router (crossbar_config/config.yaml), so every
# driver's WebSocket ping is in it once, as it is in every 10 s of the trips.
IDLE_SECONDS = 10.0


async def point(reactor, args, drivers: int, workdir: Path) -> dict:
    sqlite_file = workdir / f"city-{drivers}.sqlite3"
    database_url = args.database_url or (None if args.url else f"sqlite:///{sqlite_file}")
    node = _node(reactor, args, database_url, workdir / f"city-{drivers}.log")
    ledger, rng, city = Ledger(f"city-{secrets.token_hex(4)}"), random.Random(args.seed), City(size_km=args.city_km)
    fleet = Fleet(reactor, ledger, city, Behaviour(args.accept_probability, args.think_seconds), rng)
    riders = Riders(reactor, ledger, city, rng)
    names = {role: [f"{ledger.tag}-{role}-{n}" for n in range(count)]
             for role, count in (("rider", args.riders), ("driver", drivers))}  # fmt: skip
    paused = None
    try:
        await node.start()
        await _sign_up(reactor, args, node.url, database_url, names)
        await _log_in(reactor, args, node.url, fleet, riders, names)
        groups = {**node.processes(), "bench": [psutil.Process(os.getpid())]}
        fleet.start_reporting()
        await _sleep(reactor, REPORT_EVERY)  # every driver online before anything is measured
        positions = await _measure(groups, ledger, lambda: _sleep(reactor, args.positions_seconds))
        requests = _requests(rng, args)
        with bar("trips", len(requests)) as progress:
            trips = await _measure(groups, ledger, lambda: riders.run(requests, progress))
        fleet.stop_reporting()
        if not args.url:  # a node of someone else's would let the silent drivers go stale
            paused = await _paused(reactor, args, groups, fleet, riders, rng, first=len(requests))
        offers = await threads.deferToThread(offers_in, database_url, ledger.tag) if database_url else None
    finally:
        fleet.close()
        riders.close()
        await _sleep(reactor, 0.5)
        await node.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    ledgers = [ledger] + ([paused[0]] if paused else [])
    ended = {nk for book in ledgers for nk, trip in book.trips.items() if trip.outcome is not None}
    checked = None if offers is None else audit([d for book in ledgers for d in book.deliveries], offers, ended)
    quiet = None if paused is None else city_figures.paused(paused[0], paused[1], paused[2], positions)
    return city_figures.figures(ledger, drivers, positions, trips, checked, paused=quiet)


def _node(reactor, args, database_url: str | None, log_path: Path):
    if args.url:
        return RemoteNode(args.url)
    return LocalNode(reactor, database_url=database_url, log_path=log_path, floor=False,
                     environment={"TAXI_DRIVER_STALE_SECONDS": str(PAUSED_STALE_SECONDS)})  # fmt: skip


def _requests(rng: random.Random, args) -> list[float]:
    return list(arrivals(rng, args.rate, duration=args.duration, trips=None if args.duration else args.trips))


async def _paused(reactor, args, groups: dict, fleet: Fleet, riders: Riders, rng, first: int):
    """Steps 6 and 7: the drivers connected but silent, idle, then taking the same amount of
    trips again, then idle again; what they see goes into a ledger of its own. Returns it,
    the idle phases and the trips phase."""
    ledger = Ledger(fleet.ledger.tag)
    fleet.ledger = riders.ledger = ledger

    def idle():
        return _measure(groups, ledger, lambda: _sleep(reactor, IDLE_SECONDS))

    before = await idle()
    requests = _requests(rng, args)
    with bar("trips, positions paused", len(requests)) as progress:
        trips = await _measure(groups, ledger, lambda: riders.run(requests, progress, first=first))
    return ledger, [before, await idle()], trips


async def _sign_up(reactor, args, url: str, database_url: str | None, names: dict) -> None:
    users = [(name, role) for role, group in names.items() for name in group]
    with bar("sign up", len(users)) as progress:
        if database_url is None:
            await _sign_up_over_wamp(reactor, args, url, users, progress)
        else:
            await threads.deferToThread(_sign_up_directly, database_url, users, progress)


def _sign_up_directly(database_url: str, users: list, progress) -> None:
    database = Database.from_url(database_url, pool_size=1)
    try:
        service = TaxiService(database, hasher=CHEAP_HASHER)
        for name, role in users:
            service.signup(username=name, password=workload.PASSWORD, role=role)
            progress.update(1)
    finally:
        database.dispose()


async def _sign_up_over_wamp(reactor, args, url: str, users: list, progress) -> None:
    anonymous = await workload.connect(reactor, url, args.serializer)
    try:
        for name, role in users:
            await anonymous.call(uris.SIGNUP, username=name, password=workload.PASSWORD, role=role)
            progress.update(1)
    finally:
        anonymous.leave()


async def _log_in(reactor, args, url: str, fleet: Fleet, riders: Riders, names: dict) -> None:
    def connect(name):
        return workload.connect(reactor, url, args.serializer, name, workload.PASSWORD)

    with bar("log in", sum(map(len, names.values()))) as progress:
        await riders.log_in(names["rider"], connect, progress)
        await fleet.log_in(names["driver"], connect, progress)


async def _measure(groups: dict, ledger: Ledger, work) -> dict:
    """Runs `work` with the processes' CPU counted: the phase's figures."""
    sampler = ResourceSampler(groups)
    locates_before, started = ledger.locates, time.perf_counter()
    sampler.resume()
    try:
        await work()
    finally:
        sampler.pause()
    return city_figures.phase(time.perf_counter() - started, ledger.locates - locates_before, sampler.result())


def _sleep(reactor, seconds: float):
    return task.deferLater(reactor, seconds, lambda: None)
