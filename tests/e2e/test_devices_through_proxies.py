"""tests/e2e/test_devices.py's tests, again through two proxies (tests/e2e/proxied.py)."""

import pytest

from .test_devices import *  # noqa: F401,F403 (pytest collects the imported tests here again)
from .proxied import proxied_node  # noqa: F401


@pytest.fixture(scope="session")
def node(proxied_node):  # noqa: F811 (this module's node: the proxied one)
    return proxied_node
