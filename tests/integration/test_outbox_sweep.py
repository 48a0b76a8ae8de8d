"""components/outbox.py's Sweeper on a real database, with both clocks in the test's hands: the
reactor's (twisted's task.Clock: when sweeps run) and the service's (how old a row is, when a
lease expires). The router is a session that records what it is given and acknowledges it."""

from __future__ import annotations

import pytest
from twisted.internet import task
from twisted.internet.defer import succeed

from components.outbox import SWEEP_INTERVAL, Publisher, Sweeper
from taxi_bench.stub import InlinePool
from taxi_core.events import LEASE_TERM, SWEEP_GRACE
from taxi_core.trip_log import Outbox


class RecordingRouter:
    def __init__(self):
        self.published: list[tuple[str, int]] = []  # (topic, seq)

    def is_attached(self) -> bool:
        return True

    def publish(self, topic, trip, options):
        assert options.acknowledge
        self.published.append((topic, trip["seq"]))
        return succeed(None)


@pytest.fixture
def backends(database, clock):
    """Two backends' sweepers on one database, joined to one router, on one reactor clock."""
    reactor, router = task.Clock(), RecordingRouter()
    outbox, pool = Outbox(database, clock=clock), InlinePool()
    sweepers = [Sweeper(reactor, outbox, pool, Publisher(outbox, pool, reactor)) for _ in range(2)]
    for sweeper in sweepers:
        sweeper.register(router)
    yield reactor, router, sweepers
    for sweeper in sweepers:
        sweeper.stopService()


def test_a_stuck_event_is_published_once_past_the_grace_in_order_and_then_forgotten(
    backends, service, driver, trip, clock
):
    reactor, router, _ = backends
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")  # committed, never published
    reactor.advance(SWEEP_INTERVAL)
    assert router.published == []  # still young: its own backend's to publish
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    reactor.advance(SWEEP_INTERVAL)
    topic = f"taxi.trip.{trip['nk']}"
    assert router.published == [(topic, 1), ("taxi.drivers", 1), (topic, 2), ("taxi.drivers", 2)]
    reactor.advance(SWEEP_INTERVAL)
    assert len(router.published) == 4  # forgotten once acknowledged: not published again


def test_of_two_backends_only_the_lease_holder_sweeps_until_its_lease_runs_out(
    backends, service, database, driver, request_trip, clock
):
    reactor, router, sweepers = backends
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    reactor.advance(SWEEP_INTERVAL)  # the first sweeper took the lease on joining, and renews it
    sweepers[0].stopService()  # as if its backend died
    request_trip()
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    reactor.advance(SWEEP_INTERVAL)
    assert router.published == []  # the dead one's lease has not run out yet
    clock.advance(LEASE_TERM.total_seconds())
    reactor.advance(SWEEP_INTERVAL)
    assert [seq for _, seq in router.published] == [1, 1]  # the other took over: the trip's topic and the drivers'
