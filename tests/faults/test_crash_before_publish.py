"""Backend killed (SIGKILL) between a commit and its publication, again and again under load:
after the restarts and the outbox's sweep, every committed event has reached its subscribers,
and what came twice came with the same seq and the same payload.

The moment is arranged by the backend itself (components/crash_before_publish.py): each
backend `taxi run` starts kills itself right before publishing its AFTER-th change, until
CRASHES backends have. Its events are in the database and in the outbox, and nobody heard of
them; the clients get no answer (unknown), retry, and carry on.

"Reaches its subscribers" here: a driver subscribes to taxi.drivers before the load and is owed
every event that tells the drivers (REQUESTED, STARTED), published live. A rider subscribes to
its trip's topic (get_retained=True) once it has the trip's nk, before the drivers race for it,
and is owed every event of the trip: the first one live or, if it was published before the
subscription, as the retained event (it is still the trip's latest then). An event published
unretained while nobody was subscribed would reach no one; the order of the load leaves no such
event, so each missing one is lost.
"""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet import threads

from components.crash_before_publish import VARIABLE, CrashPlan
from taxi_core.events import LEASE_TERM, SWEEP_GRACE

from ..support.databases import BACKENDS
from ..support.node import BACKEND_READY
from ..support.wamp import sleep
from .check import check, check_events, committed_events, outbox_rows
from .harness import Deliveries, resolve_unknowns

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

CRASHES = 4
# A dead backend's events wait for the sweep: up to a lease term for its lease to expire, the
# grace, then a sweep interval or two; far more than that is a failure.
DRAINED_WITHIN = LEASE_TERM.total_seconds() + SWEEP_GRACE.total_seconds() + 30
ARRIVED_WITHIN = 10  # after the outbox is empty, for the last events to reach the clients
POLL = 0.25


@pytest.mark.parametrize("database", BACKENDS)
@pytest_twisted.ensureDeferred
async def test_events_committed_before_a_crash_reach_their_subscribers_after_the_restart(
    database, start_node, crowd, trips, tmp_path, figure
):
    # Every trip makes two changes (the request, the accept): the CRASHES crashes come
    # before the last third of the load, so that the load sees each of them.
    after = max(trips * 2 // (CRASHES + 2), 1)
    plan = CrashPlan(after, CRASHES, tmp_path / "crashes.jsonl")
    node = start_node(database, environment={VARIABLE: f"after={plan.after},times={plan.times},tally={plan.tally}"})
    deliveries = Deliveries()
    load = await crowd.trip_load(node.port, trips, follow=deliveries.follow_trip)
    await deliveries.follow_drivers(load.drivers)
    await load.run()
    await resolve_unknowns(load.history, crowd.by_name())
    drained_in = await drained(node.database_url)
    events = await all_arrived(deliveries, node.database_url)
    crashes = plan.crashes()
    caught = {(nk, seq) for crash in crashes for nk, seq in crash["events"]}
    verdict = check(load.history, node.database_url)
    figure(
        f"crashes {len(crashes)} (each after {after} changes; {len(caught)} events caught between commit and "
        f"publish); {events.summary()}; load {load.seconds:.1f} s, outbox empty {drained_in:.1f} s after it; "
        f"trips: {verdict.summary()}"
    )
    assert len(crashes) == CRASHES and node.log_count(BACKEND_READY) == CRASHES + 1, node.log_tail()
    assert caught <= committed_events(node.database_url).keys(), "a crash left an event that never committed"
    assert all(len(peer.joined_at) == 1 for peer in crowd.peers), "a client reconnected: it missed events"
    assert events.broken() == {}, events.summary()
    assert verdict.broken() == {}, verdict.summary()


async def drained(database_url: str) -> float:
    """Seconds until the outbox is empty: every committed event acknowledged by the router."""
    started = time.monotonic()
    while await threads.deferToThread(outbox_rows, database_url):
        if time.monotonic() - started > DRAINED_WITHIN:
            raise AssertionError(f"the outbox still holds events {DRAINED_WITHIN:.0f} s after the load")
        await sleep(POLL)
    return time.monotonic() - started


async def all_arrived(deliveries: Deliveries, database_url: str):
    """The verdict once nothing owed is missing, or ARRIVED_WITHIN later."""
    deadline = time.monotonic() + ARRIVED_WITHIN
    while (verdict := await threads.deferToThread(check_events, deliveries, database_url)).lost:
        if time.monotonic() > deadline:
            break
        await sleep(POLL)
    return verdict
