"""Several hosts, played on one machine: the router worker, two proxy nodes in front of it on
the shared public port (`taxi router --proxies 2`), two backends joined over TCP with keys of
their own (`taxi keygen`, `taxi backend --router rs://...`), PostgreSQL. Riders come through
one proxy, drivers through the other: the proxy a session came through is in its WELCOME
(authextra x_cb_proxy_pid; on a shared port the kernel picks the proxy, so a client that lands
on the other one is sent away and another signs up). The seed's story runs across them: riders
request, every driver hears of it, two drivers race for each trip, the rider hears who won.
Then, mid-load, the riders' proxy worker and one backend are killed with -9: nothing is lost,
doubled or given twice, and the drivers, on the surviving proxy, keep their sessions and get
every event that was theirs.
"""

from __future__ import annotations

import time

import psutil
import pytest
import pytest_twisted
from twisted.internet import defer

from ..support.node import Node
from ..support.users import signup
from .check import check
from .harness import Deliveries, TripLoad, History, resolve_unknowns
from .peer import Peer
from .test_crash_before_publish import all_arrived, drained

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

STORY_TRIPS = 16
RIDERS, DRIVERS = 8, 4
TRIES = 20  # clients signed up, at most, for each one that lands on the proxy asked for


class ProxiedPeer(Peer):
    """A Peer that notes the proxy worker (its pid) each of its sessions came through."""

    def __init__(self, port: int, user: dict):
        self.proxies: list[int] = []
        super().__init__(port, user)

    def _on_join(self, session, details):
        self.proxies.append((details.authextra or {}).get("x_cb_proxy_pid"))
        super()._on_join(session, details)


@pytest.fixture
def multi_host_node(new_database, tmp_path):
    with new_database("postgresql") as url:
        node = Node(url, tmp_path, backends=2, remote=True, proxies=2)
        try:
            node.wait_until_serving()
            yield node
        finally:
            node.stop()


def proxy_workers(node: Node) -> list[psutil.Process]:
    return [p for p in node.processes() if "crossbar.worker.proxy" in " ".join(p.cmdline())]


async def through(port: int, role: str, n: int, proxy: int, crowd: list) -> list[ProxiedPeer]:
    """`n` new users of `role`, each logged in through the proxy worker `proxy`."""
    peers = []
    for _ in range(n * TRIES):
        if len(peers) == n:
            return peers
        peer = ProxiedPeer(port, await signup(port, role))
        await peer.start()
        if peer.proxies[-1] == proxy:
            peers.append(peer)
            crowd.append(peer)
        else:
            await peer.stop()
    raise AssertionError(f"fewer than {n} of {n * TRIES} {role}s landed on proxy {proxy}")


@pytest_twisted.ensureDeferred
async def test_across_proxies_and_tcp_backends_a_killed_proxy_and_backend_lose_nothing_and_spare_the_other_proxy(
    multi_host_node, trips, figure
):
    node = multi_host_node
    [riders_proxy, drivers_proxy] = proxy_workers(node)
    [victim_backend, _] = node.backend_processes()
    crowd: list[ProxiedPeer] = []
    try:
        riders = await through(node.port, "rider", RIDERS, riders_proxy.pid, crowd)
        drivers = await through(node.port, "driver", DRIVERS, drivers_proxy.pid, crowd)
        deliveries = Deliveries()
        await deliveries.follow_drivers(drivers)

        story = TripLoad(History(), riders, drivers, requests=STORY_TRIPS, follow=deliveries.follow_trip)
        await story.run()
        told = await all_arrived(deliveries, node.database_url)
        story_verdict = check(story.history, node.database_url)
        assert story_verdict.broken() == {}, story_verdict.summary()
        assert told.broken() == {}, told.summary()

        # The same history: the check holds every trip of these riders against it.
        load = TripLoad(story.history, riders, drivers, requests=trips)
        running = defer.ensureDeferred(load.run())
        await load.reached(0.4)
        riders_proxy.kill()
        victim_backend.kill()
        killed_at = time.monotonic()
        await running
        await resolve_unknowns(load.history, {peer.name: peer for peer in crowd})
        verdict = check(load.history, node.database_url)
        drained_in = await drained(node.database_url)
        events = await all_arrived(deliveries, node.database_url)
        back = [peer.joined_at[1] - killed_at for peer in riders if len(peer.joined_at) > 1]
        felt = load.history.errors_between(killed_at, float("inf"))
        figure(
            f"story: {story_verdict.summary()}; {told.summary()}. Kill: {verdict.summary()}; load "
            f"{load.seconds:.1f} s; riders back {min(back, default=0):.1f}–{max(back, default=0):.1f} s after the "
            f"kill, through {sorted({p.proxies[-1] == drivers_proxy.pid for p in riders})} (True: the surviving "
            f"proxy); errors after the kill {felt}; outbox empty {drained_in:.1f} s after the load; "
            f"drivers' events: {events.summary()}; proxy workers now {len(proxy_workers(node))}"
        )
        assert verdict.broken() == {}, verdict.summary()
        assert len(back) == RIDERS, "a rider of the killed proxy never came back"
        assert drivers_proxy.is_running()
        assert all(len(driver.joined_at) == 1 for driver in drivers), "a driver of the surviving proxy lost its session"
        assert (events.lost, events.mismatched, events.unknown) == (0, 0, 0), events.summary()
    finally:
        await defer.gatherResults([peer.stop() for peer in crowd])
