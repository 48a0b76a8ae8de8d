"""The backend process: joins the router over its private transport and serves the contract."""

from __future__ import annotations

import os

from autobahn.twisted.component import Component
from twisted.application.service import MultiService, Service
from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults
from twisted.logger import Logger

from taxi_core.config import Settings
from taxi_core.db import Database
from taxi_core.services import TaxiService

from . import uris
from .auth import Authenticator
from .dbpool import DBPool
from .logs import start_logging
from .trips import TripProcedures

BACKEND_AUTHID = "backend"
# Reconnect soon after the router comes back: until the backend has registered again no
# client can even log in (the authenticator is ours), so every second here is a second of
# outage (tests/faults/test_router_restarted.py). A try a second over a local socket
# costs nothing, so that is as far as the back-off goes.
MAX_RETRY_DELAY = 1

log = Logger()


class BackendConnection(Service):
    """Keeps one WAMP session to the router, registering every procedure each time it joins."""

    def __init__(self, reactor, settings: Settings, handlers):
        self._reactor = reactor
        self._handlers = handlers
        self._component = Component(
            transports=[
                {
                    "type": "rawsocket",
                    "url": "rs://localhost",
                    "endpoint": {"type": "unix", "path": settings.backend_socket},
                    "serializer": "msgpack",
                    "max_retries": -1,
                    "initial_retry_delay": 0.5,
                    "max_retry_delay": MAX_RETRY_DELAY,
                }
            ],
            realm=uris.REALM,
            authentication={"ticket": {"authid": BACKEND_AUTHID, "ticket": settings.backend_ticket}},
        )
        self._component.on_join(self._on_join)

    def _on_join(self, session, details):
        d = gatherResults([registration for handler in self._handlers for registration in handler.register(session)])
        d.addCallback(lambda registrations: log.info("backend ready: {n} procedures registered", n=len(registrations)))
        return d

    def startService(self) -> None:
        super().startService()
        self._component.start(self._reactor)

    def stopService(self) -> Deferred:
        super().stopService()
        return self._component.stop()


def make_backend(reactor, settings: Settings) -> MultiService:
    database = Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
    service = TaxiService(database)
    pool = DBPool(reactor, database, size=settings.db_pool_size)
    backend = MultiService()
    pool.setServiceParent(backend)
    handlers = [Authenticator(service, pool), TripProcedures(service, pool)]
    BackendConnection(reactor, settings, handlers).setServiceParent(backend)
    return backend


def main(make=make_backend) -> None:
    """Runs the backend that ``make(reactor, settings)`` builds (the benchmark's stub brings
    its own) until the process is told to stop."""
    start_logging(timestamps=False)
    settings = Settings.from_environ(os.environ)

    def run(reactor):
        backend = make(reactor, settings)
        backend.startService()
        reactor.addSystemEventTrigger("before", "shutdown", backend.stopService)
        return Deferred()  # runs until the process is told to stop

    task.react(run)


if __name__ == "__main__":
    main()
