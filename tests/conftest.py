"""Fixtures for every test folder: brand-new databases on SQLite and PostgreSQL, a clock that
tests move by hand, a TaxiService on each database, and the shared node on each database.

What is not pytest's own (databases, nodes, the WAMP client, users) is in tests/support, which
the tests that trial runs too use directly. The per-test fixtures (``empty_database_url``,
``database_url``, ``service``) are function scoped. A fixture of a wider scope makes its
database with the session-scoped ``new_database`` factory instead::

    @pytest.fixture(scope="module", params=BACKENDS)
    def own_database(request, new_database):
        with new_database(request.param, migrated=True) as url:
            ...
"""

from __future__ import annotations

import datetime as dt
import unittest
from contextlib import ExitStack, contextmanager
from typing import Iterator

import argon2
import pytest
from argon2 import PasswordHasher

from taxi_core.db import Database
from taxi_core.migrate import migrate
from taxi_core.services import TaxiService

from .support import trial
from .support.databases import BACKENDS, new_database as _new_database
from .support.node import keep_ctrl_c_for_the_nodes
from .support.shared import shared_node_now, stop_shared_nodes

# Threaded tests run up to this many sessions at once; every engine gets room for them all.
POOL_SIZE = 25


def pytest_configure(config):
    keep_ctrl_c_for_the_nodes()


class FakeClock:
    """Stands still until a test moves it: time is injected, never slept on."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def new_database(tmp_path_factory):
    """A factory of brand-new databases, for fixtures of any scope: a context manager that
    yields the database's URL and removes the database afterwards (tests/support/databases.py)."""

    @contextmanager
    def new(backend: str, *, migrated: bool = False) -> Iterator[str]:
        with ExitStack() as stack:
            try:
                url = stack.enter_context(_new_database(backend, tmp_path_factory.mktemp(backend), migrated=migrated))
            except unittest.SkipTest as skipped:
                pytest.skip(str(skipped))  # reported at the test, rather than inside pytest's unittest support
            yield url

    return new


@pytest.fixture(scope="session", autouse=True)
def shared_nodes():
    """The shared nodes (tests/support/shared.py), which trial-style tests start too: stopped at
    the end of the session, each of which must stop cleanly on Ctrl-C."""
    yield
    problems = stop_shared_nodes()
    assert problems == [], "\n\n".join(problems)


@pytest.fixture(scope="session", params=BACKENDS)
def node(request):
    """The shared node on each database, for the whole session."""
    try:
        return shared_node_now(request.param)
    except unittest.SkipTest as skipped:
        pytest.skip(str(skipped))


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, new_database) -> Iterator[str]:
    with new_database(request.param) as url:
        yield url


@pytest.fixture
def database_url(empty_database_url) -> str:
    migrate(empty_database_url)
    return empty_database_url


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    db = Database.from_url(database_url, pool_size=POOL_SIZE)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def password_hasher() -> PasswordHasher:
    """Argon2id at its cheapest: the same code path as production, at a fraction of the cost."""
    return PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)


@pytest.fixture
def service(database, clock, password_hasher) -> TaxiService:
    return TaxiService(database, clock=clock, hasher=password_hasher)


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        help="run the tests that take a count (races, fuzzing, the model test, tests/faults) with their big counts",
    )


@pytest.fixture
def long_run(request) -> bool:
    """Whether --long was given: CI runs the fast variants, --long the big counts."""
    return request.config.getoption("--long")


FIGURES = pytest.StashKey[list]()


@pytest.fixture
def figure(request):
    """figure(text): print a test's figure (its count, its histogram) now and in the run's summary."""
    return _figure_recorder(request)


@pytest.fixture(autouse=True)
def _figures_of_trial_style_tests(request):
    if isinstance(request.instance, trial.TestCase):
        request.instance.figure = _figure_recorder(request, f"{type(request.instance).__name__}.{request.node.name}")


def _figure_recorder(request, name: str | None = None):
    collected = request.config.stash.setdefault(FIGURES, [])

    def record(text: str) -> None:
        line = f"{name or request.node.name}: {text}"
        print(f"\nFIGURE {line}", flush=True)
        collected.append(line)
        request.node.user_properties.append(("figure", text))

    return record


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
