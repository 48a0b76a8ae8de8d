"""The end-to-end tests' fixtures: users made through the front door of the shared node, and
nodes of a test's own, for tests that break or lock them on purpose (tests/support/node.py)."""

from __future__ import annotations

import pytest

from ..support.databases import BACKENDS
from ..support.node import Node
from ..support.users import Users


@pytest.fixture(params=BACKENDS)
def own_node(request, new_database, tmp_path):
    """A node for one test alone, for tests that break it or lock it on purpose."""
    with new_database(request.param) as url:
        node = Node(url, tmp_path)
        try:
            node.wait_until_serving()
            yield node
        finally:
            node.stop()


@pytest.fixture
def users(node):
    users = Users(node)
    yield users
    users.close()
