"""components/dispatcher.py's Dispatcher on a real database, with both clocks in the test's
hands: the reactor's (when ticks run) and the service's (when windows end, when a lease
expires). The router is a session that records what it is given and acknowledges it."""

from __future__ import annotations

import pytest
from twisted.internet import task
from twisted.internet.defer import succeed

from components.dispatcher import TICK, Dispatcher
from components.outbox import Publisher
from taxi_bench.stub import InlinePool
from taxi_core.dispatching import LEASE_TERM, Dispatching
from taxi_core.geo import KM_PER_DEGREE, Point
from taxi_core.trip_log import Outbox

PICK_UP = Point(52.52, 13.40)


class RecordingRouter:
    def __init__(self):
        self.published: list[tuple] = []  # (topic, seq, offer, eligible)

    def is_attached(self) -> bool:
        return True

    def publish(self, topic, trip, options, **kwargs):
        assert options.acknowledge
        self.published.append((topic, trip["seq"], kwargs.get("offer"), options.eligible_authid))
        return succeed(None)


@pytest.fixture
def backends(database, clock):
    """Two backends' dispatchers on one database, joined to one router, on one reactor clock."""
    reactor, router, pool = task.Clock(), RecordingRouter(), InlinePool()
    publisher = Publisher(Outbox(database, clock=clock), pool, reactor)
    dispatchers = [Dispatcher(reactor, Dispatching(database, clock=clock), pool, publisher) for _ in range(2)]
    for dispatcher in dispatchers:
        dispatcher.register(router)
    yield reactor, router, dispatchers
    for dispatcher in dispatchers:
        dispatcher.stopService()


@pytest.fixture
def offered_drivers(sign_up, database, clock):
    dispatching = Dispatching(database, clock=clock)
    names = [sign_up(f"near{n}", "driver") for n in range(4)]
    for n, name in enumerate(names):
        dispatching.locate(driver=name, lat=PICK_UP.lat + (n + 1) / KM_PER_DEGREE, lng=PICK_UP.lng)
    return names


def located(service, rider, database, clock) -> dict:
    """A located request whose own event its backend has published (its outbox row is gone)."""
    outcome = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B", pick_up_location=PICK_UP)
    Outbox(database, clock=clock).forget([event.event_id for event in outcome.events])
    return outcome.trip


def test_when_the_window_ends_the_next_tick_offers_the_next_batch_and_passes_the_first_over(
    backends, service, rider, offered_drivers, database, clock
):
    reactor, router, _ = backends
    trip = located(service, rider, database, clock)
    reactor.advance(TICK)
    assert router.published == []  # the window is open: nothing due
    clock.advance(15)
    reactor.advance(TICK)
    assert router.published == [
        (f"taxi.trip.{trip['nk']}", 2, None, None),
        ("taxi.drivers", 2, "open", offered_drivers[3:]),
        ("taxi.drivers", 2, "closed", offered_drivers[:3]),
    ]
    reactor.advance(TICK)
    assert len(router.published) == 3  # applied once


def test_of_two_backends_only_the_lease_holder_dispatches_and_the_other_takes_over_when_it_expires(
    backends, service, rider, offered_drivers, database, clock
):
    reactor, router, (holder, other) = backends  # the first to join ticked first, and took the lease
    holder.stopService()
    other.stopService()  # neither ticks on its own any more: the test ticks them
    located(service, rider, database, clock)
    for _ in range(4):  # the holder renews its lease every 3 s while nothing is due
        clock.advance(3)
        holder.tick()
    assert router.published == []
    clock.advance(3)  # the window has ended
    other.tick()
    assert router.published == []  # not the holder
    holder.tick()
    assert [p[2] for p in router.published] == [None, "open", "closed"]
    reactor.advance(1)  # the router has it: its outbox row goes
    clock.advance(4)
    other.tick()
    assert len(router.published) == 3  # the lease is still the holder's, who died just now
    clock.advance(LEASE_TERM.total_seconds())  # ...and has run out
    other.tick()  # the other takes it over; round 2's window is still open
    assert len(router.published) == 3
    clock.advance(15 - 4 - LEASE_TERM.total_seconds())
    other.tick()
    assert [p[1:3] for p in router.published[3:]] == [(3, None), (3, "closed")]  # nobody new: searching
