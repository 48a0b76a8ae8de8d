"""The backend process: joins the router (over its private socket, or by URL over TCP:
components/backend_link.py) and serves the contract."""

from __future__ import annotations

import os

from autobahn.twisted.component import Component
from twisted.application.service import MultiService, Service
from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.logger import Logger

from taxi_core.config import Settings
from taxi_core.db import Database
from taxi_core.device_services import DeviceService
from taxi_core.dispatching import Dispatching
from taxi_core.services import TaxiService, utc_now
from taxi_core.trip_log import Outbox

from . import uris
from .auth import Authenticator
from .backend_link import link_for
from .crash_before_publish import crashing_before_publish
from .dbpool import DBPool
from .devices import DEVICE_PROCEDURES, DeviceLogins, PasswordChanges
from .dispatcher import Dispatcher
from .drivers import DRIVER_PROCEDURES
from .health import HealthCheck
from .logs import log_level, start_logging
from .memory import tune_malloc
from .metrics import Metrics
from .metrics_http import MetricsResource, MetricsServer, RouterSession
from .outbox import Publisher, Sweeper
from .process import serve
from .trips import TripProcedures

# Reconnect soon after the router comes back: until the backend has registered again no
# client can even log in (the authenticator is ours), so every second here is a second of
# outage (tests/faults/test_router_restarted.py). A try a second over a local socket
# costs nothing, so that is as far as the back-off goes.
MAX_RETRY_DELAY = 1
# How often a backend looks for the router's socket before its first connection, and after how
# long without it that is worth a warning (the router takes a few seconds to start).
ROUTER_POLL_INTERVAL = 0.1
ROUTER_WAIT_WARNING = 20

# Named, not taken from the module: `taxi run` starts this module as __main__ (components/logs.py).
log = Logger(namespace="components.backend")


class BackendConnection(Service):
    """Keeps one WAMP session to the router, registering every procedure each time it joins;
    the `last` handlers' once all the others' are registered (components/health.py says why)."""

    def __init__(self, reactor, settings: Settings, handlers, last=()):
        self._reactor = reactor
        self._handlers = handlers
        self._last = last
        self._link = link_for(settings)
        self._waiting = task.LoopingCall(self._connect_once_the_router_listens)
        self._waiting.clock = reactor
        self._waited = 0
        self._component = Component(
            transports=[
                {
                    "type": "rawsocket",
                    "url": "rs://localhost",
                    "endpoint": self._link.endpoint,
                    "serializer": "msgpack",
                    "max_retries": -1,
                    "initial_retry_delay": 0.5,
                    "max_retry_delay": MAX_RETRY_DELAY,
                }
            ],
            realm=uris.REALM,
            authentication=self._link.authentication,
        )
        self._component.on_join(self._on_join)

    def _on_join(self, session, details):
        d = self._register(session, self._handlers)
        d.addCallback(lambda first: self._register(session, self._last).addCallback(lambda last: first + last))
        d.addCallback(
            lambda registrations: log.info(
                "backend ready: {n} procedures registered{how}",
                n=len(registrations),
                how="" if self._link.is_local else f" (at {self._link.where} as {details.authid})",
            )
        )
        return d

    @staticmethod
    def _register(session, handlers):
        return gatherResults([registration for handler in handlers for registration in handler.register(session)])

    def startService(self) -> None:
        super().startService()
        # The backends start beside the router and are ready to connect before it listens.
        # Autobahn logs every connection that fails as an error, so the backend waits for the
        # router's socket instead of trying it: a start stays quiet, and a real outage later
        # (a router that died) is still reported. A router on another host is just tried.
        if not self._link.is_local:
            self._component.start(self._reactor)
            return
        self._waiting.start(ROUTER_POLL_INTERVAL)

    def _connect_once_the_router_listens(self) -> None:
        if os.path.exists(self._link.where):
            self._waiting.stop()
            self._component.start(self._reactor)
            return
        self._waited += 1
        if self._waited == round(ROUTER_WAIT_WARNING / ROUTER_POLL_INTERVAL):
            log.warn("still waiting for the router's socket {socket}", socket=self._link.where)

    def stopService(self) -> Deferred:
        super().stopService()
        if self._waiting.running:
            self._waiting.stop()
            return succeed(None)
        return self._component.stop()


def make_backend(reactor, settings: Settings) -> MultiService:
    database = Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
    service = TaxiService(database, policy=settings.dispatch)
    dispatching = Dispatching(database, clock=utc_now, policy=settings.dispatch)
    pool = DBPool(reactor, database, size=settings.db_pool_size)
    backend = MultiService()
    pool.setServiceParent(backend)
    outbox = Outbox(database, clock=utc_now)
    publisher = Publisher(outbox, pool, reactor)
    sweeper = Sweeper(reactor, outbox, pool, publisher)
    sweeper.setServiceParent(backend)
    dispatcher = Dispatcher(reactor, dispatching, pool, publisher)
    dispatcher.setServiceParent(backend)
    # The Publisher itself, unless a fault test asks the backend to crash before publishing.
    steps_publisher = crashing_before_publish(publisher, os.environ)
    metrics, router = Metrics(), RouterSession()
    devices = DeviceService(database, policy=settings.devices)
    authenticator = Authenticator(service, pool)
    handlers = [
        authenticator,
        TripProcedures(service, pool, steps_publisher, metrics=metrics),
        TripProcedures(dispatching, pool, publisher, DRIVER_PROCEDURES, metrics=metrics),
        TripProcedures(devices, pool, publisher, DEVICE_PROCEDURES, metrics=metrics),
        PasswordChanges(devices, pool, authenticator.accounts),
        DeviceLogins(devices, pool),
        sweeper,
        dispatcher,
        router,
    ]
    last = [HealthCheck(database, pool)]
    BackendConnection(reactor, settings, handlers, last).setServiceParent(backend)
    if settings.metrics_port is not None:
        resource = MetricsResource(metrics, database, pool, router)
        MetricsServer(reactor, resource, settings.metrics_host, settings.metrics_port).setServiceParent(backend)
    return backend


def main(make=make_backend, router: str | None = None) -> None:
    """Runs the backend that ``make(reactor, settings)`` builds (the benchmark's stub brings
    its own) until the process is told to stop; `router`: a router's URL, over TAXI_BACKEND_ROUTER."""
    # Before the pool's threads exist: malloc is to give back what they free (components/memory.py).
    tune_malloc()
    start_logging(log_level(), timestamps=False)
    settings = Settings.from_environ(os.environ, backend_router=router)
    serve(lambda reactor: make(reactor, settings))


if __name__ == "__main__":
    main()
