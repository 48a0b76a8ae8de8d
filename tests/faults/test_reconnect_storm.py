"""A reconnect storm, small: 200 drivers logged in with device keys and subscribed to taxi.drivers,
the router killed with kill -9 under them. `taxi run` starts it again; every driver rejoins and
resubscribes by itself (taxi_bench.fleet's drivers, as `taxi bench --storm` has them), which a trip
requested afterwards proves: every one of them is told of it. And their logins cost the backend
no argon2 check: what it spent over the storm is far below what that many checks cost."""

from __future__ import annotations

import secrets
import time

import psutil
import pytest
import pytest_twisted
from argon2 import PasswordHasher
from twisted.internet import reactor

from taxi_bench.fleet import PASSWORD, Fleet, now, seed_in_thread

from ..support.wamp import sleep
from .test_router_restarted import router_node

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

DRIVERS = 200
STORM_BOUND = 30  # seconds from the kill until every driver is subscribed again
SETTLE = 2  # seconds after the last join: the backend has recorded every device's join by then


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def argon2_check_seconds() -> float:
    """What one ticket login's argon2 check costs in CPU here (PasswordHasher's defaults, as the
    backend's), the least of three."""
    hasher = PasswordHasher()
    password_hash = hasher.hash(PASSWORD)
    costs = []
    for _ in range(3):
        started = time.process_time()
        hasher.verify(password_hash, PASSWORD)
        costs.append(time.process_time() - started)
    return min(costs)


def backend_of(node) -> psutil.Process:
    [backend] = [p for p in psutil.Process(node.process.pid).children()
                 if any("components.backend" in part for part in p.cmdline())]  # fmt: skip
    return backend


@pytest_twisted.ensureDeferred
async def test_a_storm_of_device_key_drivers_all_rejoin_and_resubscribe_without_an_argon2_check(start_node, figure):
    node = start_node("sqlite")
    tag = f"storm-{secrets.token_hex(4)}"
    rider = f"{tag}-rider"
    keys = await seed_in_thread(node.database_url, [f"{tag}-driver-{n}" for n in range(DRIVERS)], [rider])
    fleet = Fleet(reactor, f"ws://127.0.0.1:{node.port}/ws", keys)
    try:
        assert len(await fleet.start()) == DRIVERS, fleet.errors()
        await sleep(SETTLE)
        backend = backend_of(node)
        before = cpu_seconds(backend)
        controller = router_node(node)
        for process in [controller, *controller.children(recursive=True)]:
            process.kill()
        killed_at = now()
        back = await fleet.wait_back(killed_at, timeout=STORM_BOUND)
        spent = cpu_seconds(backend) - before
        heard = await fleet.tell_of_a_trip(rider, f"{rider} after the storm")
    finally:
        await fleet.stop()
    argon2 = argon2_check_seconds()
    half, last = (f"{back[k]:.1f} s" if len(back) > k else "never" for k in (DRIVERS // 2 - 1, DRIVERS - 1))
    figure(
        f"{len(back)} of {DRIVERS} back, 50 % in {half}, all in {last}; "
        f"{heard} told of the trip; backend CPU {spent:.2f} s over the storm, {DRIVERS} argon2 checks "
        f"would be {DRIVERS * argon2:.1f} s; {fleet.failed_tries()} failed tries"
    )
    assert len(back) == DRIVERS, f"{DRIVERS - len(back)} not back within {STORM_BOUND} s: {fleet.errors()}"
    assert heard == DRIVERS
    # Not one argon2 check a driver, not even one in ten (a key's login is a lookup and a write).
    assert spent < DRIVERS * argon2 / 10
