"""Slow and dead clients: a driver that stops reading delays no one else's alerts and is
dropped by auto-ping; a peer that never finishes its handshake is dropped too; a message
over the 64 KiB limit closes its connection, one under it is served."""

from __future__ import annotations

import statistics
import subprocess
import time

import pytest
import pytest_twisted
from twisted.internet import defer, threads

from ..support.users import PASSWORD, signup
from ..support.wamp import connect, sleep
from .rawws import Closed, RawClient

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ADDRESS = "x" * 255  # the longest address there is: the biggest events there are
RIDERS = 4
# crossbar_config/config.yaml: auto-ping every 10 s, 5 s for the pong; HTTP client_timeout 15 s.
DROP_BOUND = 30  # seconds: the promise is 15, with room for a busy machine
MAX_MESSAGE_SIZE = 65536


def queued_by_router(port: int, client: RawClient) -> int | None:
    """Bytes the router's kernel holds for `client`, unsent or unacknowledged (ss's Send-Q)."""
    mine = client.sock.getsockname()[1]
    out = subprocess.run(
        ["ss", "-tnH", "state", "established", f"( sport = :{port} and dport = :{mine} )"],
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return int(out[1]) if len(out) >= 2 else None


def percentiles(latencies: list[float]) -> dict[str, float]:
    ms = sorted(1000 * latency for latency in latencies)
    return {
        "p50": round(statistics.median(ms)),
        "p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))]),
        "max": round(ms[-1]),
    }


async def alert_latencies(riders, arrivals: dict, requests: int) -> list[float]:
    """Riders request trips side by side; for each, the time from the call to the healthy driver's alert."""
    invoked = {}

    async def ride(rider, n):
        for _ in range(n):
            started = time.monotonic()
            trip = await rider.call("trip.request", pick_up_address=ADDRESS, drop_off_address=ADDRESS)
            invoked[trip["nk"]] = started

    await defer.gatherResults([defer.ensureDeferred(ride(r, requests // len(riders))) for r in riders])
    for _ in range(100):  # the last alerts may still be on their way
        if invoked.keys() <= arrivals.keys():
            break
        await sleep(0.1)
    missing = invoked.keys() - arrivals.keys()
    assert not missing, f"{len(missing)} of {len(invoked)} alerts never reached the healthy driver"
    return [arrivals[nk] - started for nk, started in invoked.items()]


async def login(port: int, role: str):
    user = await signup(port, role)
    return user, await connect(port, authid=user["username"], ticket=PASSWORD)


@pytest_twisted.ensureDeferred
async def test_a_driver_that_stops_reading_delays_no_alert_and_dead_peers_are_dropped(start_node, trips, figure):
    requests = min(4 * trips, 3000)  # enough events to fill the stalled driver's buffers
    node = start_node("sqlite")
    _, healthy = await login(node.port, "driver")
    arrivals = {}

    def alert(trip):
        if trip["status"] == "REQUESTED":
            arrivals.setdefault(trip["nk"], time.monotonic())

    await healthy.subscribe(alert, "taxi.drivers")
    riders = [session for _, session in [await login(node.port, "rider") for _ in range(RIDERS)]]
    baseline = percentiles(await alert_latencies(riders, arrivals, requests))

    stalled_user, _ = await login(node.port, "driver")
    stalled = RawClient(node.port, receive_buffer=4096)  # a small window, so its buffers fill soon
    await threads.deferToThread(stalled.join, stalled_user["username"], PASSWORD)
    await threads.deferToThread(stalled.subscribe, "taxi.drivers")
    last_read = time.monotonic()  # from here on it reads nothing, answers no ping
    silent = RawClient(node.port)  # a TCP connection that never sends its request
    opened = time.monotonic()
    started = time.monotonic()
    with_stalled = percentiles(await alert_latencies(riders, arrivals, requests))
    stalled_through = not stalled.closed_by_router()
    queued = queued_by_router(node.port, stalled)
    phase = time.monotonic() - started

    dropped = {}
    while len(dropped) < 2 and time.monotonic() - opened < DROP_BOUND + 10:
        for name, client, since in (("stalled driver", stalled, last_read), ("silent peer", silent, opened)):
            if name not in dropped and client.closed_by_router():
                dropped[name] = round(time.monotonic() - since, 1)
        await sleep(0.1)
    figure(
        f"alert latency (call -> healthy driver's event, ms), {requests} requests by {RIDERS} riders: "
        f"alone {baseline}, beside a driver that stopped reading {with_stalled} "
        f"({requests} events of ~{len(ADDRESS) * 2 // 1024 + 1} KiB unread, {queued} bytes in the router's "
        f"send queue to it, still connected through the {phase:.1f} s load: {stalled_through}); "
        f"dropped by the router after (s): {dropped}"
    )
    assert dropped.keys() == {"stalled driver", "silent peer"}
    assert max(dropped.values()) < DROP_BOUND
    # The healthy driver was never dropped on the way: it answers pings.
    assert healthy.is_attached()
    for session in [healthy, *riders]:
        session.leave()
    stalled.close()
    silent.close()


@pytest_twisted.ensureDeferred
async def test_a_message_over_64_kib_closes_its_connection_and_one_under_is_answered(start_node, figure):
    node = start_node("sqlite")
    rider = await signup(node.port, "rider")
    client = RawClient(node.port)
    await threads.deferToThread(client.join, rider["username"], PASSWORD)

    def call(request_id: int, size: int):
        client.send([48, request_id, {}, "trip.request", [], {"pick_up_address": "x" * size, "drop_off_address": "B"}])
        return client.receive()

    under = await threads.deferToThread(call, 1, MAX_MESSAGE_SIZE - 1024)
    with pytest.raises(Closed) as over:
        await threads.deferToThread(call, 2, MAX_MESSAGE_SIZE)
    figure(
        f"a {MAX_MESSAGE_SIZE - 1024}-character address: answered {under[4]}; "
        f"a message over {MAX_MESSAGE_SIZE} bytes: connection closed with code {over.value.code}"
    )
    assert under[0] == 8 and under[4] == "taxi.error.invalid_argument"  # an ERROR, and the session goes on
    assert over.value.code == 1009  # "message too big"
    client.close()
