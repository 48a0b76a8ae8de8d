"""Users made through the front door: user.signup, then a login with a WAMP ticket."""

from __future__ import annotations

import itertools
import secrets

from twisted.internet import defer

from .wamp import Client, connect

PASSWORD = "correct horse battery"

_names = itertools.count()


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_names)}_{secrets.token_hex(3)}"


async def signup(port: int, role: str, **names) -> dict:
    """A new user of `role` (a unique username, the suite's PASSWORD), as user.signup returns it."""
    anonymous = await connect(port)
    try:
        return await anonymous.call("user.signup", username=unique_name(role), password=PASSWORD, role=role, **names)
    finally:
        await anonymous.close()


class Users:
    """Signs users up and logs them in on `node`; close() ends every session it opened."""

    def __init__(self, node):
        self.node = node
        self.sessions: list[Client] = []

    async def signup(self, role: str, **names) -> dict:
        return await signup(self.node.port, role, **names)

    async def login(self, user: dict, **options) -> Client:
        session = await connect(self.node.port, authid=user["username"], ticket=PASSWORD, **options)
        self.sessions.append(session)
        return session

    async def new(self, role: str, **options) -> tuple[Client, dict]:
        """A new user of `role`, logged in: (session, user)."""
        user = await self.signup(role)
        return await self.login(user, **options), user

    async def crowd(self, role: str, n: int, **options) -> list[tuple[Client, dict]]:
        """`n` new users of `role`, signed up and logged in side by side: [(session, user), ...]."""
        return await gather(self.new(role, **options) for _ in range(n))

    async def anonymous(self) -> Client:
        session = await connect(self.node.port)
        self.sessions.append(session)
        return session

    def close(self) -> defer.Deferred:
        """Every session leaves; fires once every connection is closed (trial's janitor checks that)."""
        return defer.gatherResults([session.close() for session in self.sessions], consumeErrors=True)


def gather(coroutines) -> defer.Deferred:
    """The results of `coroutines`, run side by side, in order; fails with the first failure."""
    return defer.gatherResults([defer.ensureDeferred(c) for c in coroutines], consumeErrors=True)
