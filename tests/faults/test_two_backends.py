"""Two backend processes share the procedures (invoke: roundrobin) on PostgreSQL: the load is
spread over both; one is killed mid-load and the other serves on, with nothing lost or doubled.

Both ways of running them: `taxi run --backends 2` (which restarts the killed one) and a
separate `taxi router` with two `taxi backend` processes (where nothing restarts it: that is
the process manager's job, and the survivor must carry the load alone)."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet import defer, task

from ..support.node import BACKEND_READY
from ..support.wamp import sleep
from .check import check
from .harness import resolve_unknowns

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

TOPOLOGIES = {"taxi run --backends 2": False, "taxi router + 2 taxi backend": True}


def cpu_seconds(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest_twisted.ensureDeferred
async def test_with_two_backends_the_survivor_serves_on_and_no_trip_is_lost(
    topology, start_node, crowd, trips, figure
):
    separate = TOPOLOGIES[topology]
    node = start_node("postgresql", "--backends", "2", backends=2, separate=separate)
    backends = node.backend_processes()
    assert len(backends) == 2
    load = await crowd.trip_load(node.port, trips)
    history = load.history
    cpu_before = [cpu_seconds(p) for p in backends]
    running = defer.ensureDeferred(load.run())
    await load.reached(0.4)
    spread = [round(cpu_seconds(p) - before, 1) for p, before in zip(backends, cpu_before)]
    victim, survivor = backends
    victim.kill()
    killed_at = time.monotonic()
    restarted = []
    watch = task.LoopingCall(
        lambda: restarted or node.log_count(BACKEND_READY) < 3 or restarted.append(time.monotonic())
    )
    watch.start(0.1)
    await running
    alone_until = restarted[0] if restarted else time.monotonic()
    if not separate:  # `taxi run` brings the killed one back, if the load did not outlast that
        for _ in range(600):
            if restarted:
                break
            await sleep(0.1)
    watch.stop()
    await resolve_unknowns(history, crowd.by_name())
    verdict = check(history, node.database_url)
    served_alone = sum(killed_at <= op.invoked and op.completed <= alone_until for op in history.attempts("ok"))
    felt = history.errors_between(killed_at, alone_until)
    figure(
        f"backend CPU seconds before the kill {spread}; {verdict.summary()}; load {load.seconds:.1f} s; "
        f"errors seen after the kill {felt}; {served_alone} calls served by the survivor alone"
        + (f" (the killed one was back after {restarted[0] - killed_at:.1f} s)" if restarted else "")
    )
    assert min(spread) > 0.1 * max(spread), "the load was not spread over both backends"
    assert survivor.is_running()
    assert served_alone > 0
    # The survivor still holds every registration: calls never find the procedure missing.
    assert "wamp.error.no_such_procedure" not in felt
    assert bool(restarted) != separate
    assert verdict.broken() == {}, verdict.summary()
