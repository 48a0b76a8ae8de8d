"""The Twisted side of dispatch: every TICK, the backend holding the "dispatch" lease runs the
next step of every located request that is due (taxi_core.dispatching: a round, the end of a
window, the expiry) and publishes the events through the outbox.

Why a lease, as for the outbox sweep (components/outbox.py): it needs no URI and no right in
the router, works for `taxi run --backends N` and for separate `taxi backend`s alike, and a
dead holder's lease expires (dispatching.LEASE_TERM), after which another backend takes over.
Deadlines live in the database (trips.next_dispatch_at), so a restarted or new holder
carries on where the last one stood; and since every step is a compare-and-set, two holders
at once (one lost its lease mid-tick) cannot offer a round twice.

Round 1 is not here: it happens in trip.request's own transaction.
"""

from __future__ import annotations

import uuid

from twisted.application.service import Service
from twisted.internet import task
from twisted.internet.defer import gatherResults, inlineCallbacks, succeed
from twisted.logger import Logger

from taxi_core.dispatching import Dispatching

from .dbpool import DBPool
from .outbox import Publisher

# Seconds between ticks: how late, at most, a window's end or an expiry is acted on.
TICK = 1.0
DISPATCHING = "dispatching: this backend holds the dispatch lease"
NOT_DISPATCHING = "dispatching: another backend holds the dispatch lease"
log = Logger()


class Dispatcher(Service):
    """A handler of the backend's connection (components/backend.py): registers nothing, and
    ticks from its first join on, on the reactor it is given, while the backend is joined."""

    def __init__(self, reactor, dispatching: Dispatching, pool: DBPool, publisher: Publisher, interval: float = TICK):
        self._dispatching = dispatching
        self._pool = pool
        self._publisher = publisher
        self._holder = uuid.uuid4().hex  # this process, as the lease knows it
        self._session = None
        self._ticking = False
        self._holding = False
        self._loop = task.LoopingCall(self.tick)
        self._loop.clock = reactor
        self._interval = interval

    def register(self, session) -> list:
        self._session = session
        if not self._loop.running:
            stopped = self._loop.start(self._interval, now=True)
            stopped.addErrback(lambda failure: log.failure("the dispatcher stopped", failure=failure))
        return []

    def stopService(self) -> None:
        super().stopService()
        if self._loop.running:
            self._loop.stop()

    def tick(self):
        """One tick, unless the last is still under way or the backend is not joined."""
        if self._ticking or self._session is None or not self._session.is_attached():
            return succeed(None)
        self._ticking = True
        d = self._tick(self._session)
        d.addErrback(lambda failure: log.warn("dispatch tick failed: {why}", why=failure.getErrorMessage()))
        d.addBoth(self._done)
        return d

    def _done(self, _):
        self._ticking = False

    @inlineCallbacks
    def _tick(self, session):
        holding = yield self._pool.run(self._dispatching.take_lease, self._holder)
        if holding != self._holding:
            # Which backend dispatches, in its own log: an operator (or a fault test) can tell
            # who took over from a dead holder, and when.
            log.info(DISPATCHING if holding else NOT_DISPATCHING)
            self._holding = holding
        if not holding:
            return
        due = yield self._pool.run(self._dispatching.due)
        # Each trip in a unit of work of its own, side by side in the pool; each one's events
        # go out as soon as it has committed.
        yield gatherResults([self._dispatch(session, trip_id) for trip_id in due], consumeErrors=True)

    def _dispatch(self, session, trip_id: int):
        d = self._pool.run(self._dispatching.dispatch, trip_id)
        d.addCallback(lambda events: self._publisher.publish(session, events))
        return d
