"""One user's client for the fault tests: it reconnects and logs in again by itself, and fails
calls in flight at once when its connection drops."""

from __future__ import annotations

import time

from autobahn.twisted.component import Component
from autobahn.twisted.wamp import Session
from autobahn.wamp.exception import ApplicationError
from twisted.internet import defer, reactor
from twisted.python.failure import Failure

from components.uris import REALM

from ..support.users import PASSWORD

CALL_TIMEOUT = 10  # an answer later than this is an unknown outcome
JOIN_TIMEOUT = 60
# Autobahn's reconnect: 0.2 s, then 1.5 times longer each try, never more than this.
MAX_RETRY_DELAY = 2


class CallTimeout(Exception):
    pass


class NotAttached(Exception):
    pass


def within(d: defer.Deferred, seconds: float) -> defer.Deferred:
    """`d`'s result, or CallTimeout after `seconds`; `d` itself is left to finish unheard.

    (Deferred.addTimeout would cancel the call, which sends CANCEL over a transport that
    may be gone.)
    """
    result = defer.Deferred()

    def expire():
        if not result.called:
            result.errback(CallTimeout())

    timer = reactor.callLater(seconds, expire)

    def settle(outcome):
        if timer.active():
            timer.cancel()
        if not result.called:
            (result.errback if isinstance(outcome, Failure) else result.callback)(outcome)

    d.addBoth(settle)
    return result


class _Session(Session):
    def onLeave(self, details):
        # A Component's session skips ApplicationSession.onLeave, which is what fails the
        # calls still waiting for an answer: without this, a call in flight when the
        # connection drops would wait forever (here: until CALL_TIMEOUT) instead of
        # failing at once with the reason (wamp.close.transport_lost).
        self._errback_outstanding_requests(ApplicationError(details.reason, details.message))
        return super().onLeave(details)


class _Component(Component):
    session_factory = _Session


class Peer:
    """One user's connection, which comes back by itself: Autobahn's Component reconnects
    with a growing delay up to MAX_RETRY_DELAY and logs in again."""

    def __init__(self, port: int, user: dict, password: str = PASSWORD):
        self.name = user["username"]
        self.role = user["role"]
        self.session = None
        self.joined_at: list[float] = []
        self._waiting: list[defer.Deferred] = []
        transport = {
            "type": "websocket",
            "url": f"ws://127.0.0.1:{port}/ws",
            "serializers": ["msgpack"],
            "max_retries": -1,
            "initial_retry_delay": 0.2,
            "retry_delay_growth": 1.5,
            "max_retry_delay": MAX_RETRY_DELAY,
        }
        self.component = _Component(
            transports=[transport], realm=REALM, authentication={"ticket": {"authid": self.name, "ticket": password}}
        )
        self.component.on_join(self._on_join)
        self.component.on_leave(self._on_leave)

    def start(self) -> defer.Deferred:
        self.component.start(reactor).addErrback(lambda failure: None)  # stopped, or gave up: seen as no session
        return self.attached()

    def stop(self) -> defer.Deferred:
        return defer.maybeDeferred(self.component.stop).addErrback(lambda failure: None)

    def _on_join(self, session, details):
        self.session = session
        self.joined_at.append(time.monotonic())
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            if not d.called:
                d.callback(session)

    def _on_leave(self, session, details):
        if self.session is session:
            self.session = None

    def attached(self, timeout: float = JOIN_TIMEOUT) -> defer.Deferred:
        if self.session is not None and self.session.is_attached():
            return defer.succeed(self.session)
        d = defer.Deferred()
        self._waiting.append(d)
        return within(d, timeout)

    def call(self, procedure: str, timeout: float = CALL_TIMEOUT, **kwargs) -> defer.Deferred:
        session = self.session
        if session is None or not session.is_attached():
            return defer.fail(NotAttached())
        return within(defer.maybeDeferred(session.call, procedure, **kwargs), timeout)

