"""Runs inside the Crossbar router worker: GET /healthz on the public port, for load balancers.

200 "ok" when the router is up, a backend has registered taxi's procedures and the database
answers; otherwise 503 with a one-line reason (REASONS). The router answers it from what it
has: its own service session (HealthProbe, a router component like components/router_retention.py)
calls taxi.health.check, which only a backend that has registered everything else has registered
(components/health.py) and which answers only once the database has.

Why this design. Crossbar's web services answer from files, WSGI apps or the REST bridge; none
knows whether a backend is there. A `type: wsgi` app, or a check in the backend, could only
say whether *it* is up, not whether the router routes to anyone. Asking through the router
asks the one question a client's call depends on (can the router reach a backend, and can
that backend reach the database), with no port, credential or process of its own: the call is
a function call inside this worker (the component's transport is in-process), and the router's
own call timeout (CallOptions.timeout; Crossbar interrupts the callee too) bounds it.

The resource is made by Crossbar from the config alone (`type: resource`, classname: its
`extra` is all it gets), so it finds the component's session through this module: one router
worker is one process, with one probe.
"""

from __future__ import annotations

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from components import uris
from components.errors import DATABASE_UNREACHABLE

# Seconds the router waits for a backend's answer (Crossbar's timeouts are whole seconds, run on
# a one-second timer: the answer comes within TIMEOUT + 1). Load balancers probe every few seconds.
TIMEOUT = 2
OK = "ok"
NOT_READY = "the router has not started its health probe yet"
NO_BACKEND = "no backend has registered taxi's procedures"
UNREACHABLE = "database unreachable"
TOO_SLOW = f"no backend answered within {TIMEOUT} s (its database may be slow)"
REASONS = {
    ApplicationError.NO_SUCH_PROCEDURE: NO_BACKEND,
    DATABASE_UNREACHABLE: UNREACHABLE,
    ApplicationError.CANCELED: TOO_SLOW,  # the router's timeout: "timeout reached"
}

log = Logger()
_probe: "HealthProbe | None" = None  # the worker's probe, once it has joined


def health(session) -> "Deferred[str | None]":
    """None when healthy, else the reason, one line."""
    if session is None or not session.is_attached():
        return succeed(NOT_READY)
    d = session.call(uris.HEALTH_CHECK, options=CallOptions(timeout=TIMEOUT))
    d.addCallbacks(lambda _: None, _reason)
    return d


def _reason(failure) -> str:
    if failure.check(ApplicationError):
        return REASONS.get(failure.value.error, f"health check failed: {failure.value.error}")
    log.failure("health check failed", failure=failure)
    return "health check failed"


class HealthProbe(ApplicationSession):
    """The router component whose session asks taxi.health.check; it does nothing else."""

    def onJoin(self, details):
        global _probe
        _probe = self

    def onLeave(self, details):
        global _probe
        if _probe is self:
            _probe = None
        return super().onLeave(details)


class HealthResource(Resource):
    """GET (and HEAD) /healthz. Crossbar makes it with the path's `extra`, which it does not need."""

    isLeaf = True

    def __init__(self, extra=None, session_of=lambda: _probe):
        super().__init__()
        self._session_of = session_of

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        # A load balancer (or a proxy between) must ask every time.
        request.setHeader(b"cache-control", b"no-store")
        gone = []
        request.notifyFinish().addErrback(gone.append)
        health(self._session_of()).addCallback(self._answer, request, gone)
        return NOT_DONE_YET

    @staticmethod
    def _answer(reason: str | None, request, gone: list) -> None:
        if gone:  # the prober hung up first
            return
        request.setResponseCode(200 if reason is None else 503)
        request.write(f"{reason or OK}\n".encode())
        request.finish()
