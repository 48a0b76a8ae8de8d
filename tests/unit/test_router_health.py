"""GET /healthz (components/router_health.py) inside a real Crossbar router: the pinned Crossbar's
router, dealer and service session in this process, the probe attached as config.yaml attaches
router components, and a backend session registering taxi.health.check with config.yaml's
backend permissions. The node itself is tests/e2e/test_health_and_metrics.py."""

import pytest
from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from components import router_health, uris
from components.errors import DATABASE_UNREACHABLE
from components.router_health import NO_BACKEND, NOT_READY, UNREACHABLE, HealthProbe, HealthResource
from tests.support.router_realm import RouterRealmInProcess


class Router(RouterRealmInProcess):
    """The realm with the probe attached, as config.yaml starts it."""

    def __init__(self):
        super().__init__()
        self.probe = self.attach(HealthProbe(ComponentConfig(uris.REALM)), "trusted")

    def backend(self, check) -> ApplicationSession:
        session = self.attach(ApplicationSession(ComponentConfig(uris.REALM)), "backend")
        registered = []
        session.register(check, uris.HEALTH_CHECK).addCallback(registered.append)
        assert registered, "the backend role may register taxi.health.check (config.yaml)"
        return session


def get(resource) -> tuple[int, str]:
    request = DummyRequest([b"healthz"])
    assert resource.render(request) is NOT_DONE_YET
    assert request.finished
    assert request.responseHeaders.getRawHeaders(b"cache-control") == [b"no-store"]
    return request.responseCode or 200, b"".join(request.written).decode()


@pytest.fixture
def router():
    return Router()


def test_the_probe_is_the_one_the_resource_made_from_the_config_asks(router):
    assert router_health._probe is router.probe
    router.backend(lambda: "ok")
    assert get(HealthResource({})) == (200, "ok\n")


def test_healthy_when_a_backend_answers_the_check(router):
    router.backend(lambda: "ok")
    assert get(HealthResource(session_of=lambda: router.probe)) == (200, "ok\n")


def test_no_backend_registered_is_503_with_that_reason(router):
    assert get(HealthResource(session_of=lambda: router.probe)) == (503, NO_BACKEND + "\n")


def test_a_backend_that_left_takes_its_health_with_it(router):
    backend = router.backend(lambda: "ok")
    router.router.detach(backend)  # what Crossbar does, a reactor turn later, when a backend's transport goes
    assert get(HealthResource(session_of=lambda: router.probe)) == (503, NO_BACKEND + "\n")


def test_a_backend_whose_database_does_not_answer_is_503_database_unreachable(router):
    def check():
        raise ApplicationError(DATABASE_UNREACHABLE, "could not connect")

    router.backend(check)
    assert get(HealthResource(session_of=lambda: router.probe)) == (503, UNREACHABLE + "\n")


def test_any_other_error_is_503_naming_its_uri_on_one_line(router):
    def check():
        raise ApplicationError("taxi.error.internal", "internal error")

    router.backend(check)
    assert get(HealthResource(session_of=lambda: router.probe)) == (503, "health check failed: taxi.error.internal\n")


def test_before_the_probe_has_joined_it_is_503_not_ready():
    assert get(HealthResource(session_of=lambda: None)) == (503, NOT_READY + "\n")
