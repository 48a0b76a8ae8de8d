"""The short soak of bounded router memory (components/router_retention.py): thousands of trips
through their whole lifecycle (taxi bench's workload: request, accept, start, complete) on a
node whose grace is one second; afterwards the router holds no trip topic at all, as the router
itself counts (taxi.router.retained), not as guessed from its memory. With --long, ten times as
many. The router worker's RSS before and after is a figure, not a check: memory a process has
once used is not always given back, so only the count can say that nothing is held."""

from __future__ import annotations

import psutil
import pytest
import pytest_twisted
from twisted.internet import reactor

from taxi_bench.nodes import router_worker_of
from taxi_bench.workload import Workload

from ..support.wamp import connect_backend, router_holds

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

RIDERS = 20
DRIVERS = 4
GRACE = {"TAXI_RETAIN_GRACE_SECONDS": "1"}


class Count:
    """What the workload reports its progress to."""

    done = 0

    def update(self, n: int) -> None:
        self.done += n


@pytest.fixture
def soak_trips(long_run) -> int:
    return 20_000 if long_run else 2_000


@pytest_twisted.ensureDeferred
async def test_after_thousands_of_finished_trips_the_router_holds_no_trip_topic(start_node, soak_trips, figure):
    node = start_node("sqlite", separate=True, environment=GRACE)
    router = router_worker_of(psutil.Process(node.process.pid))
    workload = Workload(reactor, f"ws://127.0.0.1:{node.port}/ws", drivers=DRIVERS, riders=RIDERS)
    backend = await connect_backend(node.backend_socket, node.backend_ticket)
    try:
        await workload.sign_up(Count())
        await workload.log_in_riders(Count())
        await workload.log_in_drivers(Count())
        rss_before = router.memory_info().rss
        trips = Count()
        seconds = await workload.run(trips, soak_trips // RIDERS)
        held = await router_holds(backend)
        rss_after = router.memory_info().rss
    finally:
        workload.close()
        await backend.close()
    assert workload.errors == [] and trips.done == soak_trips
    assert held == {"retained": 0, "subscriptions": 0, "in_grace": 0, "authorizations": 0}
    figure(
        f"{trips.done} trips in {seconds:.0f} s ({trips.done / seconds:.0f}/s), then the router holds {held}; "
        f"router worker RSS {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB"
    )
