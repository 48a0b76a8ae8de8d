"""A trip's life, who may see it, and retention, again through two proxies (tests/e2e/proxied.py)."""

from .proxied import DATABASE, PROXIES
from .test_authorization import Authorization
from .test_lifecycle import Lifecycle
from . import test_retention  # the module: its TestCase here would be collected again
from ..support import trial


class LifecycleThroughProxies(Lifecycle, trial.NodeTestCase):
    database, proxies = DATABASE, PROXIES


class AuthorizationThroughProxies(Authorization, trial.NodeTestCase):
    database, proxies = DATABASE, PROXIES


class RetentionThroughProxies(test_retention.Retention):
    proxies = PROXIES
