"""The backend's side of GET /healthz: taxi.health.check, which answers once the database has.

The router asks it (components/router_health.py). The backend registers it after every other
procedure (components/backend.py), so that its registration at the router is the fact "a
backend serves the whole contract"; the router drops all of a backend's registrations at once
when its session goes, so the fact goes with it.
"""

from __future__ import annotations

from autobahn.wamp.types import RegisterOptions

from taxi_core import operations
from taxi_core.db import Database

from . import uris
from .dbpool import DBPool
from .errors import to_application_error


class HealthCheck:
    def __init__(self, database: Database, pool: DBPool):
        self._database = database
        self._pool = pool

    def register(self, session) -> list:
        # Every backend registers it, like the contract's procedures: any one that answers
        # will do, since they share the database.
        return [session.register(self.check, uris.HEALTH_CHECK, options=RegisterOptions(invoke="roundrobin"))]

    def check(self):
        """Through the pool, like any call: a pool whose threads are all stuck is a backend that
        does not answer, which the router's timeout reports."""
        d = self._pool.run(operations.ping, self._database)
        d.addCallback(lambda _: "ok")
        d.addErrback(to_application_error, uris.HEALTH_CHECK)
        return d
