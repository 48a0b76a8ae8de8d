"""Serving a backend's metrics (components/metrics.py) at http://TAXI_METRICS_HOST:TAXI_METRICS_PORT/metrics.

Off unless TAXI_METRICS_PORT is set; bound to 127.0.0.1 unless TAXI_METRICS_HOST says otherwise
(the figures are for the operator's Prometheus, not the public). A twisted.web site on the
backend's own reactor rather than prometheus_client's threaded server: a scrape's gauges are
asked on the reactor, of the database through the backend's one pool (components/dbpool.py)
and of the router through the backend's own session, and the page is written once both have
answered, so a scrape never blocks the reactor and never reads a half-updated figure.

Sessions by role are the router's own count (wamp.session.count, one call a role), not a tally
of the meta events wamp.session.on_join / on_leave: in Crossbar 26.10 on_leave carries only the
session id, so a tally would need a map of every session seeded by wamp.session.list, racing
the events, in every backend; the router's count is exact at once, even just after a restart.
"""

from __future__ import annotations

from autobahn.wamp.types import CallOptions
from twisted.application.service import Service
from twisted.internet.defer import gatherResults, succeed
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from taxi_core import operations
from taxi_core.db import Database
from taxi_core.services import Clock, utc_now

from .dbpool import DBPool
from .metrics import SESSION_ROLES, Metrics

SESSION_COUNT = "wamp.session.count"
ROUTER_TIMEOUT = 2  # seconds (Crossbar's call timeout: whole seconds)
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"  # what generate_latest writes
log = Logger()


class RouterSession:
    """A handler of the backend's connection (components/backend.py): registers nothing, and
    keeps the session it last joined with, for the scrapes to ask the router."""

    session = None

    def register(self, session) -> list:
        self.session = session
        return []


class MetricsResource(Resource):
    isLeaf = True

    def __init__(self, metrics: Metrics, database: Database, pool: DBPool, router: RouterSession, clock: Clock = utc_now):
        super().__init__()
        self._metrics = metrics
        self._database = database
        self._pool = pool
        self._router = router
        self._clock = clock

    def render_GET(self, request):
        request.setHeader(b"content-type", CONTENT_TYPE)
        gone = []
        request.notifyFinish().addErrback(gone.append)
        d = self.refresh()
        d.addCallback(lambda _: None if gone else (request.write(self._metrics.exposition()), request.finish()))
        return NOT_DONE_YET

    def refresh(self):
        """Fills the gauges; fires when both sources have answered (or failed, which
        taxi_scrape_ok says: the gauges then keep their last figures)."""
        return gatherResults([self._figures(), self._sessions()])

    def _figures(self):
        d = self._pool.run(operations.figures, self._database, self._clock())
        d.addCallback(self._metrics.saw_figures)
        return self._noting(d, "database")

    def _sessions(self):
        session = self._router.session
        if session is None or not session.is_attached():
            self._metrics.up.labels("router").set(0)
            return succeed(None)
        options = CallOptions(timeout=ROUTER_TIMEOUT)
        counts = [session.call(SESSION_COUNT, filter_authroles=[role], options=options) for role in SESSION_ROLES]
        d = gatherResults(counts, consumeErrors=True)
        d.addCallback(lambda answers: self._metrics.saw_sessions(dict(zip(SESSION_ROLES, answers))))
        return self._noting(d, "router")

    def _noting(self, d, source: str):
        def failed(failure):
            log.warn("metrics: the {source} did not answer: {why}", source=source, why=failure.getErrorMessage())
            return 0

        d.addCallbacks(lambda _: 1, failed)
        d.addCallback(self._metrics.up.labels(source).set)
        return d


class MetricsServer(Service):
    """Listens while the backend runs; a port it cannot have is a warning, not a dead backend."""

    def __init__(self, reactor, resource: MetricsResource, host: str, port: int):
        self._endpoint = TCP4ServerEndpoint(reactor, port, interface=host)
        self._where = f"http://{host}:{port}/metrics"
        root = Resource()
        root.putChild(b"metrics", resource)
        self._site = Site(root)
        self._site.noisy = False
        self._listening = None

    def startService(self) -> None:
        super().startService()
        d = self._endpoint.listen(self._site)
        d.addCallbacks(self._listened, lambda failure: log.warn("metrics not served: {why}", why=failure.getErrorMessage()))

    def _listened(self, port) -> None:
        self._listening = port
        log.info("metrics at {where}", where=self._where)

    def stopService(self):
        super().stopService()
        return self._listening.stopListening() if self._listening is not None else None
