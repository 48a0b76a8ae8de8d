"""Runs inside each Crossbar proxy worker (`taxi run --proxies N`, crossbar_config/proxies.yaml):
one correction to Crossbar 26.10.1's proxy, and the proxies' /healthz, which is what loads it.

The defect (docs/crossbar-workarounds.md). When the router ends a proxied session — a GOODBYE
from the router worker, as wamp.session.kill sends it (a removed device, a changed password:
components/sessions.py) — the proxy's session to the router takes the GOODBYE itself
(ProxyBackendSession.onMessage passes it to Autobahn, which forgets the session id), and on
close tells the client ABORT "authentication failed" instead: a message a joined client may not
get, so the client sees its connection lost, never the reason (taxi.close.device_removed). And
the proxy keeps the frontend's entry in its map of backends (ProxyController._backends_by_frontend)
until the client's connection closes, then fails to leave the session already gone and keeps
the entry for ever. The correction: a GOODBYE from the router of a joined session goes on to
the client, as the router sent it, the entry is dropped, and the client's connection is closed
after it (the client's own GOODBYE in reply has no one left to answer it).

Why the health relay loads it. A proxy worker runs no components; the one piece of taxi Crossbar
creates in it from the config is a web resource. So /healthz in a proxy is this module's
HealthRelay, which installs the correction as Crossbar makes it, when the transport starts and
before any client connects, and passes GET /healthz on to the router worker's loopback port
(the health probe lives there: components/router_health.py).
"""

from __future__ import annotations

from autobahn.wamp import message
from crossbar.worker.proxy import ProxyBackendSession
from twisted.logger import Logger
from twisted.web.proxy import ReverseProxyResource

log = Logger()


def forward_router_goodbyes(backend_class=ProxyBackendSession) -> None:
    """Wrap ProxyBackendSession.onMessage: a GOODBYE the router starts, of a joined session,
    goes to the client."""
    original = backend_class.onMessage
    if getattr(original, "taxi_guarded", False):
        return

    def onMessage(self, msg):
        frontend = self._frontend
        # Not the router's answer to a GOODBYE of the proxy's (a client leaving): the client
        # has had its answer from the proxy already.
        ended_by_router = self._session_id and not self._goodbye_sent
        if isinstance(msg, message.Goodbye) and ended_by_router and frontend is not None:
            self._frontend = None  # onClose would tell the client ABORT instead
            frontend._controller._backends_by_frontend.pop(frontend, None)
            frontend._backend_session = None
            if frontend.transport is not None:
                frontend.transport.send(message.Goodbye(reason=msg.reason, message=msg.message))
                frontend.transport.close()
        return original(self, msg)

    onMessage.taxi_guarded = True
    backend_class.onMessage = onMessage


class HealthRelay(ReverseProxyResource):
    """GET /healthz in a proxy: the router worker's answer. Crossbar makes it with the path's
    `extra`, {"port": the router worker's health port} (filled in by taxi/node_config.py)."""

    def __init__(self, extra):
        forward_router_goodbyes()
        super().__init__("127.0.0.1", int(extra["port"]), b"/")
