"""Backend killed (kill -9) in the middle of a load: the node brings it back by itself,
clients retry with the same request_id, and no trip is lost, doubled or given twice."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet import defer

from ..support.databases import BACKENDS
from ..support.node import BACKEND_READY
from .check import check
from .harness import resolve_unknowns

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


@pytest.mark.parametrize("database", BACKENDS)
@pytest_twisted.ensureDeferred
async def test_killed_backend_comes_back_and_no_trip_is_lost_doubled_or_given_twice(
    database, start_node, crowd, trips, figure
):
    node = start_node(database)
    load = await crowd.trip_load(node.port, trips)
    history = load.history
    running = defer.ensureDeferred(load.run())
    await load.reached(0.4)
    [backend] = node.backend_processes()
    backend.kill()  # SIGKILL: mid-transaction, mid-reply, no goodbye
    killed_at = time.monotonic()
    await running
    await resolve_unknowns(history, crowd.by_name())
    verdict = check(history, node.database_url)
    back = history.first_ok_after(killed_at)
    felt = history.errors_between(killed_at, back or float("inf"))
    figure(
        f"{verdict.summary()}; load {load.seconds:.1f} s; errors seen after the kill {felt}; "
        + (f"served again {back - killed_at:.1f} s after the kill" if back else "never served again")
    )
    assert node.log_count(BACKEND_READY) >= 2, "the backend was not restarted"
    assert felt, "the kill went unnoticed: the load must have been over already"
    assert back is not None
    assert verdict.broken() == {}, verdict.summary()
