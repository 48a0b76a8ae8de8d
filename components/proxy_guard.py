"""Runs inside each Crossbar proxy worker (`taxi run --proxies N`, crossbar_config/proxies.yaml):
two corrections to Crossbar 26.10.1's proxy, and the proxies' /healthz, which is what loads them.

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

The second defect (docs/crossbar-workarounds.md #8), the other way round. When the client leaves
(its GOODBYE), the proxy answers it GOODBYE and makes its session to the router leave; once the
router has answered, that session closes and, with no session id left, tells the client ABORT
if the client's connection is still open: an ABORT after the GOODBYE, which a client takes for a
second end of its session (Autobahn calls onLeave again). The correction: once a joined client
has said GOODBYE, the proxy tells it nothing more, neither that ABORT nor a message of the router
still under way.

Why the health relay loads it. A proxy worker runs no components; the one piece of taxi Crossbar
creates in it from the config is a web resource. So /healthz in a proxy is this module's
HealthRelay, which installs the corrections as Crossbar makes it, when the transport starts and
before any client connects, and passes GET /healthz on to the router worker's loopback port
(the health probe lives there: components/router_health.py).
"""

from __future__ import annotations

from autobahn.wamp import message
from crossbar.worker.proxy import ProxyBackendSession, ProxyFrontendSession
from twisted.logger import Logger
from twisted.web.proxy import ReverseProxyResource

log = Logger()


def forward_router_goodbyes(backend_class=ProxyBackendSession) -> None:
    """Wrap ProxyBackendSession.onMessage: a GOODBYE the router starts, of a joined session,
    goes to the client."""
    if _installed(backend_class, "forward_router_goodbyes"):
        return
    original = backend_class.onMessage

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

    backend_class.onMessage = onMessage


# Set on a proxy's frontend session once its client has left with GOODBYE.
CLIENT_LEFT = "_taxi_client_left"


def tell_a_leaving_client_nothing_more(frontend_class=ProxyFrontendSession, backend_class=ProxyBackendSession) -> None:
    """Wrap ProxyFrontendSession.onMessage to mark a joined client's GOODBYE, and the backend
    session's onMessage and onClose to send that client nothing after the proxy's answer."""
    if _installed(backend_class, "tell_a_leaving_client_nothing_more"):
        return
    original_frontend = frontend_class.onMessage
    original_message, original_close = backend_class.onMessage, backend_class.onClose

    def frontend_onMessage(self, msg):
        if isinstance(msg, message.Goodbye) and self._session_id is not None:
            setattr(self, CLIENT_LEFT, True)
        return original_frontend(self, msg)

    def backend_onMessage(self, msg):
        control = isinstance(msg, (message.Welcome, message.Challenge, message.Abort, message.Goodbye))
        if not control and _client_left(self):
            return None  # an event or a result still under way when the client left
        return original_message(self, msg)

    def backend_onClose(self, wasClean):
        if _client_left(self):
            self._frontend = None  # Crossbar's onClose would send the client ABORT
        return original_close(self, wasClean)

    frontend_class.onMessage = frontend_onMessage
    backend_class.onMessage, backend_class.onClose = backend_onMessage, backend_onClose


def _installed(backend_class, correction: str) -> bool:
    """Whether `correction` is installed already (each proxy's /healthz installs them): marks it."""
    done = backend_class.__dict__.get("_taxi_corrections", frozenset())
    if correction in done:
        return True
    backend_class._taxi_corrections = done | {correction}
    return False


def _client_left(backend) -> bool:
    return backend._frontend is not None and getattr(backend._frontend, CLIENT_LEFT, False)


class HealthRelay(ReverseProxyResource):
    """GET /healthz in a proxy: the router worker's answer. Crossbar makes it with the path's
    `extra`, {"port": the router worker's health port} (filled in by taxi/node_config.py)."""

    def __init__(self, extra):
        forward_router_goodbyes()
        tell_a_leaving_client_nothing_more()
        super().__init__("127.0.0.1", int(extra["port"]), b"/")
