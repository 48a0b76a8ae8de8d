"""Dispatch under faults, on nodes with short windows: a backend killed (kill -9) while offers
are under way, and two backends sharing a load of located requests, the lease holder killed.

What must hold (tests/faults/dispatch_check.py): every trip's dispatch resumes where it stood
(its deadlines are in the database, not in the dead process), each round is made once, no
driver is offered one trip twice, every offer reaches its driver, every trip ends (accepted or
expired), none expires before its time nor long after it; and of the accepted ones, each has
exactly one winner (tests/faults/check.py)."""

from __future__ import annotations

import datetime as dt
import random
import time

import pytest
import pytest_twisted
from twisted.internet import defer, task, threads

from components.dispatcher import DISPATCHING
from taxi_core.dispatching import LEASE_TERM
from taxi_core.geo import KM_PER_DEGREE

from ..support.databases import BACKENDS
from ..support.node import BACKEND_READY
from ..support.wamp import sleep
from .check import check
from .dispatch_check import check_dispatch, opens, read_dispatch
from .harness import Deliveries, History, perform, resolve_unknowns

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

CITY = {"lat": 48.85, "lng": 2.35}
WINDOW = 2
# Drivers stay fresh for the whole test: staleness is not what is under test.
SHORT = {"TAXI_OFFER_SECONDS": str(WINDOW), "TAXI_DRIVER_STALE_SECONDS": "600"}
TICK_LATE = 1.5  # the dispatcher ticks every second: a step comes at most about this late
LEASE = LEASE_TERM.total_seconds()


def gather(coroutines) -> defer.Deferred:
    return defer.gatherResults([defer.ensureDeferred(c) for c in coroutines], consumeErrors=True)


async def located_drivers(crowd, port: int, n: int, deliveries: Deliveries) -> list:
    """n drivers listening on taxi.drivers, 1, 2, ... n km north of the city's pick-up."""
    drivers = await crowd.join(port, "driver", n)
    await deliveries.follow_drivers(drivers)
    for km, driver in enumerate(drivers, 1):
        await driver.call("driver.locate", lat=CITY["lat"] + km / KM_PER_DEGREE, lng=CITY["lng"])
    return drivers


def request(history: History, rider, key: str):
    return perform(
        history, rider, "request", key, "trip.request",
        pick_up_address="Gare", drop_off_address="Station", request_id=key, pick_up_location=CITY,
    )  # fmt: skip


async def all_ended(database_url: str, trips: int, deadline: float):
    """The database's dispatch once `trips` trips exist and none is REQUESTED (or the deadline passed)."""
    until = time.monotonic() + deadline
    while True:
        dispatch = await threads.deferToThread(read_dispatch, database_url)
        ended = len(dispatch.trips) >= trips and all(t["status"] != "REQUESTED" for t in dispatch.trips)
        if ended or time.monotonic() > until:
            return dispatch
        await sleep(0.5)


async def delivered(deliveries: Deliveries, dispatch, deadline: float = 10) -> None:
    """Waits (a while) for every offer in the table to have reached its driver: a publication
    the kill cut off comes later, from the outbox's sweep."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        got = {(d.subscriber, d.trip["nk"]) for d in opens(deliveries)}
        if all((o["driver"], o["nk"]) in got for o in dispatch.offers):
            return
        await sleep(0.5)


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.mark.parametrize("database", BACKENDS)
@pytest_twisted.ensureDeferred
async def test_a_backend_killed_mid_dispatch_resumes_every_trip_where_it_stood(database, start_node, crowd, figure):
    timeout = 15  # rounds before the kill, during the restart, and after it
    environment = {**SHORT, "TAXI_OFFER_BATCH": "1", "TAXI_REQUEST_TIMEOUT_SECONDS": str(timeout)}
    node = start_node(database, environment=environment)
    deliveries = Deliveries()
    await located_drivers(crowd, node.port, 8, deliveries)
    riders = await crowd.join(node.port, "rider", 4)
    history = History()
    await gather(request(history, rider, f"{rider.name}-0") for rider in riders)
    await sleep(WINDOW * 1.5)  # round 2's windows are open
    [backend] = node.backend_processes()
    backend.kill()
    killed, killed_wall = time.monotonic(), wall_clock()
    dispatch = await all_ended(node.database_url, len(riders), timeout + 20)
    await delivered(deliveries, dispatch)
    verdict = check_dispatch(deliveries, dispatch, timeout, lateness=TICK_LATE + 1.5)

    before = {}  # nk -> the last round made before the kill
    after = {}  # nk -> the first round made after it
    for offer in dispatch.offers:
        if offer["offered"] < killed_wall:
            before[offer["nk"]] = max(before.get(offer["nk"], 0), offer["round"])
        else:
            after[offer["nk"]] = min(after.get(offer["nk"], 99), offer["round"])
    resumed = [d.at - killed for d in opens(deliveries) if d.at > killed]
    figure(
        f"{verdict.summary()}; 1 kill; rounds before the kill {sorted(before.values())}, "
        f"first after {sorted(after.values())}; "
        + (f"first offer {min(resumed):.1f} s after the kill" if resumed else "no offer after the kill")
    )
    assert node.log_count(BACKEND_READY) >= 2, "the backend was not restarted"
    assert [t["status"] for t in dispatch.trips] == ["EXPIRED"] * len(riders), "nobody accepted: all expire"
    # Each trip went on from its own round: the next batch, after the restart, not round 1 again.
    assert len(before) == len(riders) and all(before[nk] >= 2 for nk in before)
    assert after == {nk: before[nk] + 1 for nk in before}
    assert verdict.broken() == {}, verdict.summary()


@pytest.mark.parametrize("database", BACKENDS)
@pytest_twisted.ensureDeferred
async def test_with_two_backends_each_round_is_offered_once_and_the_survivor_finishes_the_dispatch(
    database, start_node, crowd, figure
):
    timeout = 10
    environment = {**SHORT, "TAXI_OFFER_BATCH": "2", "TAXI_REQUEST_TIMEOUT_SECONDS": str(timeout)}
    # Separate backends: nothing restarts the killed one, the survivor alone must take over.
    node = start_node(database, backends=2, separate=True, environment=environment)
    history = History()
    driving = []
    # Seeded, and one rider whose trips nobody takes: some trips must expire in every run,
    # which half the drivers going for each offer by chance alone did not always leave.
    chance = random.Random(11)
    shunned = []

    def on_offer(delivery):
        """Half the drivers offered a trip go for it (so two of a batch race for some)."""
        if delivery.trip["rider"]["username"] in shunned:
            return
        if delivery.notice.get("offer") == "open" and chance.random() < 0.5:
            driving.append(defer.ensureDeferred(drive(delivery.subscriber, delivery.trip["nk"])))

    async def drive(name: str, nk: str) -> None:
        driver = peers[name]
        accept = await perform(history, driver, "accept", nk, "trip.update", nk=nk, status="STARTED")
        if accept.outcome == "ok":  # drive it to the end, to be free for the next offers
            for status in ("IN_PROGRESS", "COMPLETED"):
                await perform(history, driver, "drive", nk, "trip.update", nk=nk, status=status)

    deliveries = Deliveries(on_delivery=on_offer)
    drivers = await located_drivers(crowd, node.port, 10, deliveries)
    peers = {driver.name: driver for driver in drivers}
    riders = await crowd.join(node.port, "rider", 8)
    shunned.append(riders[0].name)
    logs = [log for log in node.logs if log.name.startswith("backend-")]
    backends = node.backend_processes()
    holder = await the_holder(logs)
    requests = 5

    async def ride(rider) -> None:
        for i in range(requests):
            await request(history, rider, f"{rider.name}-{i}")
            await sleep(0.4)

    running = gather(ride(rider) for rider in riders)
    await sleep(requests * 0.4 / 2)  # half the requests made, their rounds under way
    backends[holder].kill()
    killed, killed_wall = time.monotonic(), wall_clock()
    survivor = 1 - holder
    took_over = []
    watch = task.LoopingCall(
        lambda: took_over or DISPATCHING not in logs[survivor].read_text() or took_over.append(time.monotonic())
    )
    watch.start(0.1)
    await running
    trips = len(riders) * requests
    dispatch = await all_ended(node.database_url, trips, timeout + LEASE + 20)
    await defer.DeferredList(driving)
    watch.stop()
    await delivered(deliveries, dispatch)
    await resolve_unknowns(history, crowd.by_name())
    verdict = check(history, node.database_url)
    # An expiry due while nobody held the lease comes up to a lease term late.
    dispatched = check_dispatch(deliveries, dispatch, timeout, lateness=LEASE + TICK_LATE + 1.5)
    later_rounds = sum(o["offered"] > killed_wall and o["round"] > 1 for o in dispatch.offers)
    expired_after = sum(at > killed_wall for at in dispatch.expired_at.values())
    figure(
        f"{dispatched.summary()}; {verdict.summary()}; 1 kill (the lease holder); "
        + (f"the survivor dispatched {took_over[0] - killed:.1f} s after the kill" if took_over else "no takeover")
        + f", then made {later_rounds} later-round offers and {expired_after} expiries"
    )
    assert backends[survivor].is_running()
    assert took_over, "the survivor never took the dispatch lease"
    assert later_rounds > 0 and expired_after > 0, "the survivor made no rounds after the kill"
    assert dispatched.accepted > 0 and dispatched.expired > 0
    assert dispatched.broken() == {}, dispatched.summary()
    assert verdict.broken() == {}, verdict.summary()


async def the_holder(logs) -> int:
    """Which backend (its index) took the dispatch lease first: its log says so."""
    for _ in range(100):
        holding = [i for i, log in enumerate(logs) if DISPATCHING in log.read_text()]
        if holding:
            return holding[0]
        await sleep(0.1)
    raise AssertionError("no backend took the dispatch lease")
