"""The proxy guard (components/proxy_guard.py) on a stand-in for the proxy's client side; the
real proxies are tests/e2e/test_devices_through_proxies.py (a removed device's session ends with
its reason) and tests/e2e/test_proxies.py.

The first test pins the Crossbar code the guard leans on: an upgrade that touches it fails here."""

from types import SimpleNamespace

import pytest
from autobahn.wamp import message
from crossbar.worker.proxy import ProxyBackendSession, ProxyController, ProxyFrontendSession

from components.proxy_guard import forward_router_goodbyes, tell_a_leaving_client_nothing_more
from tests.support.fingerprints import assert_unchanged

# Crossbar 26.10.1's code (setup.py pins it): the GOODBYE it keeps, the ABORT it sends instead,
# the map entry it leaves (docs/crossbar-workarounds.md).
CROSSBAR_CODE = {
    ProxyBackendSession.onMessage: "32917428135a5096",
    ProxyBackendSession.onClose: "8d8fd2607ccb2e14",
    ProxyController.unmap_backend: "2d6756c25dee4a40",
    # The GOODBYE of a leaving client it answers, and makes the session to the router leave.
    ProxyFrontendSession.onMessage: "e9e51ef3b3047272",
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


class StandInClosingBackend(StandInBackend):
    """Crossbar's onClose, as far as the client goes: ABORT to a client still connected, once
    the session to the router has no id any more."""

    def onClose(self, wasClean):
        if self._frontend is not None and self._frontend.transport is not None:
            self._frontend.transport.send(message.Abort("wamp.error.authentication_failed"))


class StandInLeavingFrontend(StandInFrontend):
    """Crossbar's onMessage for a joined client's GOODBYE: the proxy answers it."""

    _session_id = 11

    def onMessage(self, msg):
        self.transport.send(message.Goodbye(message="Proxy session closing"))


def test_a_client_that_left_hears_the_proxy_s_goodbye_and_nothing_after_it():
    tell_a_leaving_client_nothing_more(StandInLeavingFrontend, StandInClosingBackend)
    tell_a_leaving_client_nothing_more(StandInLeavingFrontend, StandInClosingBackend)  # twice changes nothing
    frontend = StandInLeavingFrontend({})
    backend = StandInClosingBackend(frontend, session_id=None, goodbye_sent=True)
    frontend.onMessage(message.Goodbye())
    backend.onMessage(message.Event(1, 2))  # still under way from the router
    backend.onClose(wasClean=True)
    assert [type(sent) for sent in frontend.transport.sent] == [message.Goodbye]
    assert backend.handled == [] and backend._frontend is None


def test_a_client_that_has_not_left_still_hears_its_events_and_a_failed_login_s_abort():
    tell_a_leaving_client_nothing_more(StandInLeavingFrontend, StandInClosingBackend)
    frontend = StandInLeavingFrontend({})
    backend = StandInClosingBackend(frontend, session_id=None)
    event = message.Event(1, 2)
    backend.onMessage(event)
    backend.onClose(wasClean=False)
    assert backend.handled == [event]
    assert [type(sent) for sent in frontend.transport.sent] == [message.Abort]
