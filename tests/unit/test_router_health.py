"""GET /healthz (components/router_health.py) inside a real Crossbar router: the pinned Crossbar's
router, dealer and service session in this process, the probe attached as config.yaml attaches
router components, and a backend session registering taxi.health.check with config.yaml's
backend permissions. The node itself is tests/e2e/test_health_and_metrics.py."""

from pathlib import Path

import pytest
import yaml
from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import ComponentConfig
from crossbar.router.role import RouterRoleStaticAuth
from crossbar.router.router import RouterFactory
from crossbar.router.service import RouterServiceAgent
from crossbar.router.session import RouterSessionFactory
from crossbar.worker.types import RouterRealm
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from components import router_health, uris
from components.errors import DATABASE_UNREACHABLE
from components.router_health import NO_BACKEND, NOT_READY, UNREACHABLE, HealthProbe, HealthResource

CONFIG = yaml.safe_load((Path(__file__).parents[2] / "crossbar_config" / "config.yaml").read_text())
[BACKEND_PERMISSIONS] = [
    role["permissions"] for role in CONFIG["workers"][0]["realms"][0]["roles"] if role["name"] == "backend"
]


class Router:
    """Crossbar's router for realm taxi with its service session, the backend role, and the probe."""

    def __init__(self):
        factory = RouterFactory("node", "router", None)
        realm = RouterRealm(None, None, {"name": uris.REALM})
        factory.start_realm(realm)
        self.router = factory.get(uris.REALM)
        self.router.add_role(RouterRoleStaticAuth(self.router, "backend", permissions=BACKEND_PERMISSIONS))
        self._sessions = RouterSessionFactory(factory)
        realm.session = RouterServiceAgent(ComponentConfig(uris.REALM), self.router)
        self._sessions.add(realm.session, self.router, authrole="trusted")
        self.probe = HealthProbe(ComponentConfig(uris.REALM))
        self._sessions.add(self.probe, self.router, authrole="trusted")

    def backend(self, check) -> ApplicationSession:
        session = ApplicationSession(ComponentConfig(uris.REALM))
        self._sessions.add(session, self.router, authrole="backend")
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
