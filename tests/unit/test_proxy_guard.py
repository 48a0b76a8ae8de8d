"""The proxy guard (components/proxy_guard.py) on a stand-in for the proxy's client side; the
real proxies are tests/e2e/test_devices_through_proxies.py (a removed device's session ends with
its reason) and tests/e2e/test_proxies.py.

The first test pins the Crossbar code the guard leans on: an upgrade that touches it fails here."""

from types import SimpleNamespace

import pytest
from autobahn.wamp import message
from crossbar.worker.proxy import ProxyBackendSession, ProxyController

from components.proxy_guard import forward_router_goodbyes
from tests.support.fingerprints import assert_unchanged

# Crossbar 26.10.1's code (setup.py pins it): the GOODBYE it keeps, the ABORT it sends instead,
# the map entry it leaves (docs/crossbar-workarounds.md).
CROSSBAR_CODE = {
    ProxyBackendSession.onMessage: "32917428135a5096",
    ProxyBackendSession.onClose: "8d8fd2607ccb2e14",
    ProxyController.unmap_backend: "2d6756c25dee4a40",
}


@pytest.mark.parametrize("method", CROSSBAR_CODE, ids=lambda method: method.__qualname__)
def test_crossbar_s_proxy_code_is_the_code_the_guard_was_written_for(method):
    assert_unchanged(method, CROSSBAR_CODE[method], read_against="components/proxy_guard.py and docs/crossbar-workarounds.md")


class StandInTransport:
    def __init__(self):
        self.sent, self.closed = [], False

    def send(self, msg):
        self.sent.append(msg)

    def close(self):
        self.closed = True


class StandInBackend:
    """What the guard touches of a ProxyBackendSession; `original` stands for Crossbar's onMessage."""

    def __init__(self, frontend, session_id=7, goodbye_sent=False):
        self._frontend, self._session_id, self._goodbye_sent, self.handled = frontend, session_id, goodbye_sent, []

    def onMessage(self, msg):
        self.handled.append(msg)


class StandInFrontend:
    """A ProxyFrontendSession, as far as the guard goes: its transport, its controller's map."""

    def __init__(self, backend_map: dict):
        self.transport, self._backend_session = StandInTransport(), "backend"
        self._controller = SimpleNamespace(_backends_by_frontend=backend_map)
        backend_map[self] = "backend"


def frontend_of(backend_map):
    return StandInFrontend(backend_map)


def test_the_router_s_goodbye_reaches_the_client_as_sent_and_the_proxy_forgets_the_session():
    forward_router_goodbyes(StandInBackend)
    backends = {}
    frontend = frontend_of(backends)
    backend = StandInBackend(frontend)
    goodbye = message.Goodbye(reason="taxi.close.device_removed", message="the device was removed")
    backend.onMessage(goodbye)
    [sent] = frontend.transport.sent
    assert (sent.reason, sent.message) == (goodbye.reason, goodbye.message)
    assert frontend.transport.closed and backends == {} and frontend._backend_session is None
    assert backend._frontend is None  # Crossbar's onClose then sends the client no ABORT
    assert backend.handled == [goodbye]  # and Autobahn still answers the router's GOODBYE


def test_other_messages_a_goodbye_before_the_join_and_the_answer_to_a_leaving_client_are_crossbar_s_alone():
    forward_router_goodbyes(StandInBackend)
    forward_router_goodbyes(StandInBackend)  # twice changes nothing
    backends = {}
    frontend = frontend_of(backends)
    unjoined = StandInBackend(frontend, session_id=None)
    unjoined.onMessage(message.Goodbye())
    StandInBackend(frontend, goodbye_sent=True).onMessage(message.Goodbye())  # the client left: the proxy answered it
    event = message.Event(1, 2)
    StandInBackend(frontend).onMessage(event)
    assert frontend.transport.sent == [] and len(backends) == 1
