"""The base of the tests that both runners run: `trial tests`, and pytest, which collects a
twisted.trial TestCase as it does any unittest TestCase.

Why the base is needed. A trial TestCase waits for a test's Deferred by running the reactor
itself (TestCase._wait: reactor.run(), and reactor.crash() once the Deferred has fired), and after
every test its janitor (twisted.trial.util._Janitor) cancels every pending delayed call and removes
every reader and writer from the reactor, failing the test if it found any. Under pytest,
pytest-twisted owns the reactor instead: it runs reactor.run() once, in a greenlet of its own
(pytest_twisted._instances.gr_twisted), and a test waits for a Deferred by switching to that
greenlet until the Deferred fires (pytest_twisted.blockon). Once that greenlet has started, after
the session's first pytest-twisted test or fixture, trial's reactor.run() fails (the reactor is
running already), and trial's janitor would kill the timers and connections of the session's
other tests.

So, when pytest-twisted's greenlet is there, TestCase waits with blockon, and trial's janitor
is stood down for the test; trial's own steps (setUp, the test, cleanups, tearDown, each under
its timeout, reported to the result as trial reports them) run unchanged. Under plain trial
nothing changes, janitor included: there a test must leave no connection or timer behind.
tests/unit/test_trial_bridge.py fails if the internals this leans on move.

NodeTestCase is a test against the shared node of its database (tests/support/shared.py). Its
sessions live for one test (the janitor sees to that); what outlives a test is data in the node's
database, which `once()` and `accounts()` make once per test class.
"""

from __future__ import annotations

import sys

from twisted.trial import unittest, util

from .node import keep_ctrl_c_for_the_nodes
from .shared import shared_node
from .users import Users, gather

keep_ctrl_c_for_the_nodes()  # here, at import, in the main thread, before a test starts a node


def pytest_twisted_greenlet():
    """pytest-twisted's reactor greenlet, when this process is a pytest session with pytest-twisted."""
    pytest_twisted = sys.modules.get("pytest_twisted")
    return None if pytest_twisted is None else pytest_twisted._instances.gr_twisted


class _StoodDown:
    """trial's janitor, while pytest-twisted owns the reactor: its timers and connections are the session's."""

    def __init__(self, test, result, reactor=None):
        pass

    def postCaseCleanup(self) -> bool:
        return True  # clean

    def postClassCleanup(self) -> None:
        pass


class TestCase(unittest.TestCase):
    def run(self, result):
        if pytest_twisted_greenlet() is None:
            return super().run(result)
        janitor, util._Janitor = util._Janitor, _StoodDown
        try:
            return super().run(result)
        finally:
            util._Janitor = janitor

    def _wait(self, d):
        if pytest_twisted_greenlet() is None:
            return super()._wait(d)
        import pytest_twisted

        pytest_twisted.blockon(d)  # trial's _wait is only given Deferreds that never fail

    def figure(self, text: str) -> None:
        """Print a test's figure (a count, a histogram). Under pytest, tests/conftest.py puts its
        `figure` here instead, which also adds it to the run's "figures" summary."""
        print(f"\nFIGURE {type(self).__name__}.{self._testMethodName}: {text}", flush=True)


class NodeTestCase(TestCase):
    """A test against the shared node on `database`; `self.users` signs users up and logs them in."""

    database: str
    separate = False  # True: the separate node (taxi router + taxi backend), whose backend ticket the tests know
    environment: dict[str, str] = {}  # settings of the node's own (TAXI_* variables): a node of its own
    remote = False  # True: the node whose backends join over TCP with keys (Node's remote=True)
    proxies = 0  # N: the node whose public port N proxy nodes serve (Node's proxies)

    async def setUp(self):
        self.node = await shared_node(
            self.database, separate=self.separate, environment=self.environment, remote=self.remote,
            proxies=self.proxies,
        )  # fmt: skip
        self.users = Users(self.node)
        self.addCleanup(self.users.close)

    async def once(self, key, make):
        """`await make()`, made by the first test of this class that asks; for data in the node's
        database (accounts, trips), never for sessions, which end with their test."""
        made = vars(type(self)).get("_made")
        if made is None:
            made = type(self)._made = {}
        if key not in made:
            made[key] = await make()
        return made[key]

    async def accounts(self, role: str, n: int) -> list[dict]:
        """`n` users of `role`, signed up once for this class: log them in with `self.users.login`."""
        return await self.once(("accounts", role, n), lambda: gather(self.users.signup(role) for _ in range(n)))


class OnSQLite(NodeTestCase):
    database = "sqlite"


class OnPostgreSQL(NodeTestCase):
    database = "postgresql"
