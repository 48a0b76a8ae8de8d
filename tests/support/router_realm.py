"""Crossbar's own router for realm taxi, in this process: the pinned Crossbar's router, broker,
dealer and service session (the meta API), the backend role with config.yaml's permissions, and
sessions attached as Crossbar attaches a router worker's components. The unit tests of the
components that run inside the router worker (router_retention, router_health) start from it."""

from __future__ import annotations

from pathlib import Path

import yaml
from autobahn.wamp.types import ComponentConfig
from crossbar.router.role import RouterRoleStaticAuth
from crossbar.router.router import RouterFactory
from crossbar.router.service import RouterServiceAgent
from crossbar.router.session import RouterSessionFactory
from crossbar.worker.types import RouterRealm

from components import uris

CONFIG = yaml.safe_load((Path(__file__).parents[2] / "crossbar_config" / "config.yaml").read_text())
[BACKEND_PERMISSIONS] = [
    role["permissions"] for role in CONFIG["workers"][0]["realms"][0]["roles"] if role["name"] == "backend"
]


class RouterRealmInProcess:
    def __init__(self, reactor=None):
        """`reactor`: the broker's, for its meta events (a Clock in the tests that advance time)."""
        factory = RouterFactory("node", "router", None)
        if reactor is not None:
            factory._reactor = reactor
        realm = RouterRealm(None, None, {"name": uris.REALM})
        factory.start_realm(realm)
        self.router = factory.get(uris.REALM)
        self.router.add_role(RouterRoleStaticAuth(self.router, "backend", permissions=BACKEND_PERMISSIONS))
        self._sessions = RouterSessionFactory(factory)
        realm.session = RouterServiceAgent(ComponentConfig(uris.REALM), self.router)
        self.attach(realm.session, "trusted")

    def attach(self, session, role: str):
        """`session` joins the realm in `role`, as a router component does; returns it."""
        self._sessions.add(session, self.router, authrole=role)
        return session
