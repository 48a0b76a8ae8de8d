"""Publishing the trip-event log's outbox (taxi_core.events has the rules).

`Publisher` is the one way an event leaves a backend: after its transaction has committed, in
seq order, every publication acknowledged by the router; once the router has them all, their
outbox rows go (`Forgetting`: with those of other changes, a couple of deletes a second).
Whatever did not make it (the router was away, the backend died first) stays in the outbox,
and `Sweeper` publishes it: on each join and every few seconds, rows older than
events.SWEEP_GRACE (younger ones are a live backend's own, about to be published), per trip
oldest first.

Several backends: one sweeps at a time, the holder of a lease row in the database (one
conditional UPDATE with an expiry, taxi_core.trip_log.Outbox.take_lease). Chosen over a
procedure registered with invoke "first": the lease needs no URI, no right in the router's
config and no call through the router, works the same for `taxi run --backends N` and for
backends started apart with `taxi backend`, and a router that is restarting cannot make two
sweepers at once; a dead holder's lease simply expires (events.LEASE_TERM).
"""

from __future__ import annotations

import uuid

from autobahn.wamp.exception import TransportLost
from autobahn.wamp.types import PublishOptions
from twisted.application.service import Service
from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks, succeed
from twisted.logger import Logger

from taxi_core.events import Publication, in_publication_order
from taxi_core.trip_log import Outbox

from . import uris
from .dbpool import DBPool

# Seconds between sweeps: a stuck event waits at most about this beyond the grace.
SWEEP_INTERVAL = 2.0
# How long acknowledged ids wait to be deleted together, and how many make a delete at once
# (Forgetting); both far below what the sweep's grace would notice.
FORGET_DELAY = 0.5
FORGET_BATCH = 500
log = Logger()


class Publisher:
    def __init__(self, outbox: Outbox, pool: DBPool, clock):
        self._forgetting = Forgetting(outbox, pool, clock)

    def publish(self, session, publications) -> Deferred:
        """Sends the events now, in order; the Deferred fires once their rows are gone or kept."""
        publications = in_publication_order(publications)
        if not publications:
            return succeed(None)
        acknowledged = []
        try:
            for publication in publications:
                acknowledged.extend(self._send(session, publication))
        except TransportLost:
            # The router went away after the commit (tests/faults/test_router_restarted.py):
            # the rows stay, and the sweep of whichever backend joins next publishes them.
            log.warn("router gone: {n} event(s) left in the outbox", n=len(publications))
            return succeed(None)
        d = gatherResults(acknowledged, consumeErrors=True)
        d.addCallback(lambda _: self._forgetting.forget([p.event_id for p in publications]))
        d.addErrback(lambda failure: log.warn("events left in the outbox: {why}", why=failure.getErrorMessage()))
        return d

    @staticmethod
    def _send(session, publication: Publication) -> list:
        # The trip's own topic is retained (a late subscriber gets the latest at once); the
        # drivers' topic is a stream of what changed, so nothing of it is kept: above all not
        # an offer, published with eligible, which Crossbar would append to the topic's
        # retained events for ever instead of replacing the last (docs/crossbar-workarounds.md).
        sent = [
            session.publish(
                uris.trip_topic(publication.nk),
                publication.trip,
                options=PublishOptions(retain=publication.retain, acknowledge=True),
            )
        ]
        for notice in publication.notices:
            offer = {} if notice.offer is None else {"offer": notice.offer}
            expires = {} if notice.expires is None else {"expires": notice.expires}
            eligible = None if notice.eligible is None else list(notice.eligible)
            options = PublishOptions(acknowledge=True, retain=False, eligible_authid=eligible)
            sent.append(session.publish(uris.DRIVERS_TOPIC, publication.trip, options=options, **offer, **expires))
        return sent


class Forgetting:
    """Deletes the outbox rows of acknowledged events, many at a time.

    The ids wait up to FORGET_DELAY (or until FORGET_BATCH of them have come), then one job
    deletes them all; the ids acknowledged while it runs wait for the next. Per change, the
    delete was a transaction of its own, as costly as the change's (taxi bench, issue 10); now
    it is a couple a second whatever the load. The wait costs nothing in safety: a row is
    only the sweep's after events.SWEEP_GRACE, far longer, and if the backend dies before the
    delete the sweep publishes the event again, with its seq: a duplicate, which the contract
    allows, never a loss."""

    def __init__(self, outbox: Outbox, pool: DBPool, clock, *, delay: float = FORGET_DELAY, batch: int = FORGET_BATCH):
        self._outbox = outbox
        self._pool = pool
        self._clock = clock
        self._delay = delay
        self._batch = batch
        self._next: list[int] = []
        self._next_done: list[Deferred] = []
        self._timer = None
        self._running = False

    def forget(self, event_ids: list[int]) -> Deferred:
        """Fires once the job that deleted these rows is over (their rows gone, or kept if it failed)."""
        done = Deferred()
        self._next.extend(event_ids)
        self._next_done.append(done)
        self._schedule()
        return done

    def _schedule(self) -> None:
        if self._running or not self._next:
            return
        if len(self._next) >= self._batch:
            self._start()
        elif self._timer is None:
            self._timer = self._clock.callLater(self._delay, self._start)

    def _start(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        event_ids, waiting = self._next, self._next_done
        self._next, self._next_done, self._running = [], [], True
        d = self._pool.run(self._outbox.forget, event_ids)
        d.addErrback(lambda failure: log.warn("events left in the outbox: {why}", why=failure.getErrorMessage()))
        d.addCallback(self._finished, waiting)

    def _finished(self, _, waiting: list[Deferred]) -> None:
        self._running = False
        self._schedule()
        for done in waiting:
            done.callback(None)


class Sweeper(Service):
    """A handler of the backend's connection (components/backend.py): registers nothing, and
    sweeps on every join and then every SWEEP_INTERVAL on the reactor it is given."""

    def __init__(self, reactor, outbox: Outbox, pool: DBPool, publisher: Publisher, interval: float = SWEEP_INTERVAL):
        self._outbox = outbox
        self._pool = pool
        self._publisher = publisher
        self._holder = uuid.uuid4().hex  # this process, as the lease knows it
        self._session = None
        self._sweeping = False
        self._loop = task.LoopingCall(self.sweep)
        self._loop.clock = reactor
        self._interval = interval

    def register(self, session) -> list:
        self._session = session
        if self._loop.running:
            self.sweep()
        else:
            stopped = self._loop.start(self._interval, now=True)
            stopped.addErrback(lambda failure: log.failure("the outbox sweep stopped", failure=failure))
        return []

    def stopService(self) -> None:
        super().stopService()
        if self._loop.running:
            self._loop.stop()

    def sweep(self):
        """One sweep, unless one is still under way or the backend is not joined."""
        if self._sweeping or self._session is None or not self._session.is_attached():
            return succeed(None)
        self._sweeping = True
        d = self._sweep(self._session)
        d.addErrback(lambda failure: log.warn("outbox sweep failed: {why}", why=failure.getErrorMessage()))
        d.addBoth(self._done)
        return d

    def _done(self, _):
        self._sweeping = False

    @inlineCallbacks
    def _sweep(self, session):
        if not (yield self._pool.run(self._outbox.take_lease, self._holder)):
            return
        stuck = yield self._pool.run(self._outbox.stuck)
        if stuck:
            log.info("publishing {n} event(s) left in the outbox", n=len(stuck))
            yield self._publisher.publish(session, stuck)
