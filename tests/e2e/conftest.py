"""One real node per database for the whole end-to-end run, and users made through its front door."""

from __future__ import annotations

import itertools
import secrets

import pytest
from twisted.internet import defer

from conftest import BACKENDS
from .node import RunningNode, serving_node
from .wamp import connect

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", params=BACKENDS)
def node(request, new_database, tmp_path_factory):
    with new_database(request.param) as url:
        with serving_node(url, tmp_path_factory.mktemp(f"node-{request.param}")) as node:
            yield node


@pytest.fixture(params=BACKENDS)
def own_node(request, new_database, tmp_path):
    """A node for one test alone, for tests that break it or lock it on purpose."""
    with new_database(request.param) as url:
        node = RunningNode(url, tmp_path)
        try:
            node.wait_until_serving()
            yield node
        finally:
            node.stop()


@pytest.fixture(scope="session")
def backend_node(new_database, tmp_path_factory):
    """`taxi router` and one `taxi backend`, run apart as a Procfile would, so that the tests know
    the backend's socket and ticket: for the backend's row of the authorization matrix, and for
    impersonation attempts (which lock accounts and the peer here, not on the shared nodes)."""
    from faults.separate import SeparateNode

    with new_database("sqlite") as url:
        node = SeparateNode(url, tmp_path_factory.mktemp("backend-node"), backends=1)
        try:
            node.wait_until_serving(backends=1)
            yield node
        finally:
            node.stop()


_names = itertools.count()


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_names)}_{secrets.token_hex(3)}"


class Users:
    """Signs users up through user.signup and logs them in with tickets, closing every session at the end."""

    def __init__(self, node: RunningNode):
        self.node = node
        self.sessions = []

    async def signup(self, role: str, **names) -> dict:
        anonymous = await connect(self.node.port)
        try:
            return await anonymous.call(
                "user.signup", username=unique_name(role), password=PASSWORD, role=role, **names
            )
        finally:
            anonymous.leave()

    async def login(self, user: dict, **options):
        session = await connect(self.node.port, authid=user["username"], ticket=PASSWORD, **options)
        self.sessions.append(session)
        return session

    async def new(self, role: str, **options):
        """A new user of `role`, logged in: returns (session, user)."""
        user = await self.signup(role)
        return await self.login(user, **options), user

    async def crowd(self, role: str, n: int, **options) -> list:
        """`n` new users of `role`, signed up and logged in side by side: [(session, user), ...]."""
        return await defer.gatherResults(
            [defer.ensureDeferred(self.new(role, **options)) for _ in range(n)], consumeErrors=True
        )

    async def anonymous(self):
        session = await connect(self.node.port)
        self.sessions.append(session)
        return session

    def close(self):
        for session in self.sessions:
            if session.is_attached():
                session.leave()


@pytest.fixture
def users(node):
    users = Users(node)
    yield users
    users.close()
