"""The router killed (kill -9 of the Crossbar node) mid-load: `taxi run` starts it again,
the backend re-registers and every client reconnects by itself (Autobahn's reconnect,
at most MAX_RETRY_DELAY between tries); nothing is lost or doubled; time to recovery printed."""

from __future__ import annotations

import time

import psutil
import pytest
import pytest_twisted
from twisted.internet import defer, task

from taxi.ports import port_open

from ..support.node import BACKEND_READY
from ..support.wamp import sleep
from .check import check
from .harness import resolve_unknowns
from .peer import MAX_RETRY_DELAY

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

RECOVERY_BOUND = 30  # seconds from the kill until every client is back and served


def router_node(node) -> psutil.Process:
    """The Crossbar node (controller) that `taxi run` started; its router worker is its child."""
    [controller] = [p for p in psutil.Process(node.process.pid).children() if "crossbar" in " ".join(p.cmdline())]
    return controller


class Milestones:
    """When each step of the recovery was first seen; each check may look at the steps before it."""

    def __init__(self, start: float, checks: dict):
        self.start = start
        self.checks = checks
        self.at: dict[str, float] = {}  # time.monotonic() when seen
        self._loop = task.LoopingCall(self._poll)

    def _poll(self):
        for name, reached in self.checks.items():
            if name not in self.at and reached(self.at):
                self.at[name] = time.monotonic()

    def seconds(self) -> dict[str, float]:
        return {name: round(at - self.start, 1) for name, at in self.at.items()}

    def complete(self) -> bool:
        return self.at.keys() == self.checks.keys()

    def __enter__(self):
        self._loop.start(0.05)
        return self

    def __exit__(self, *exc):
        self._loop.stop()


@pytest_twisted.ensureDeferred
async def test_router_restart_mid_load_everyone_reconnects_and_no_trip_is_lost(start_node, crowd, trips, figure):
    node = start_node("sqlite", "--verbose")  # for Crossbar's own boot line, NODE_BOOT_COMPLETE
    load = await crowd.trip_load(node.port, trips)
    history = load.history
    running = defer.ensureDeferred(load.run())
    await load.reached(0.4)
    controller = router_node(node)
    workers = controller.children(recursive=True)
    controller.kill()
    killed_at = time.monotonic()
    gone = "old router worker gone"
    checks = {
        gone: lambda at: not any(worker.is_running() for worker in workers),
        "new router listening": lambda at: gone in at and port_open(node.port),
        "backend re-registered": lambda at: node.log_count(BACKEND_READY) >= 2,
        "every client rejoined": lambda at: all(len(peer.joined_at) >= 2 for peer in crowd.peers),
        # (the old worker serves on for a moment while it shuts down)
        "first call served by the new router": lambda at: gone in at and history.first_ok_after(at[gone]),
    }
    with Milestones(killed_at, checks) as recovery:
        await running
        await resolve_unknowns(history, crowd.by_name())
        for _ in range(RECOVERY_BOUND * 10):
            if recovery.complete():
                break
            await sleep(0.1)
    verdict = check(history, node.database_url)
    felt = history.errors_between(killed_at, max(recovery.at.values()))
    figure(
        f"{verdict.summary()}; load {load.seconds:.1f} s; errors seen {felt}; recovery, in s after the kill: {recovery.seconds()} "
        f"(clients' max_retry_delay {MAX_RETRY_DELAY} s)"
    )
    # The orphaned router worker exits by itself when it loses its node (Crossbar's worker
    # stops once its controller pipe closes), before the new node's worker binds the port:
    # the router came back on its first try.
    assert node.log_count("NODE_BOOT_COMPLETE") == 2
    # A commit whose events could not be published any more is no unexpected failure.
    assert node.log_count("unexpected failure") == 0
    assert recovery.complete(), f"not recovered within {RECOVERY_BOUND} s: {recovery.seconds()}"
    assert max(recovery.seconds().values()) < RECOVERY_BOUND
    assert felt, "the kill went unnoticed: the load must have been over already"
    assert verdict.broken() == {}, verdict.summary()
