"""Fixtures for every test folder: brand-new databases on SQLite and PostgreSQL, a clock that
tests move by hand, and a TaxiService on each database.

The per-test fixtures (``empty_database_url``, ``database_url``, ``service``) are function
scoped. A fixture of a wider scope (say, one Crossbar node per module) makes its database
with the session-scoped ``new_database`` factory instead::

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def node(request, new_database):
        with new_database(request.param, migrated=True) as url:
            ...
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
from contextlib import contextmanager
from typing import Iterator

import argon2
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from taxi_core.db import Database, engine_url
from taxi_core.migrate import migrate
from taxi_core.services import TaxiService

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config):
    # A shell without job control starts a background command (`make test &`) with SIGINT
    # ignored; every `taxi run` the tests start would inherit that and ignore the Ctrl-C they
    # send it as a user would, and fail as "did not stop cleanly". The suite plays a user at a
    # terminal: Python's own handler here is reset to the default in every child.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
DEFAULT_POSTGRES_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Threaded tests run up to this many sessions at once; every engine gets room for them all.
POOL_SIZE = 25


class FakeClock:
    """Stands still until a test moves it: time is injected, never slept on."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@contextmanager
def _new_sqlite_database(directory) -> Iterator[str]:
    yield f"sqlite:///{directory / 'taxi.sqlite3'}"


def _postgresql_unreachable(server_url: str, error: Exception) -> BaseException:
    """The test fails on CI, which must test PostgreSQL; elsewhere it is skipped."""
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
    message = f"PostgreSQL at {make_url(server_url)!r} cannot be reached: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        return pytest.fail.Exception(f"{message}; CI must test PostgreSQL too", pytrace=False)
    return pytest.skip.Exception(f"{message}; set TAXI_TEST_POSTGRES_URL to test on PostgreSQL")


@contextmanager
def _new_postgresql_database() -> Iterator[str]:
    server_url = os.environ.get("TAXI_TEST_POSTGRES_URL", DEFAULT_POSTGRES_SERVER_URL)
    server = create_engine(
        engine_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": 5}
    )
    name = f"taxi_test_{secrets.token_hex(8)}"
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        raise _postgresql_unreachable(server_url, error) from None
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            # FORCE: a test that failed midway may still hold connections.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(scope="session")
def new_database(tmp_path_factory):
    """A factory of brand-new databases, for fixtures of any scope: a context manager that
    yields the database's URL and removes the database afterwards."""

    @contextmanager
    def new(backend: str, *, migrated: bool = False) -> Iterator[str]:
        if backend == "sqlite":
            database = _new_sqlite_database(tmp_path_factory.mktemp("sqlite"))
        elif backend == "postgresql":
            database = _new_postgresql_database()
        else:
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        with database as url:
            if migrated:
                migrate(url)
            yield url

    return new


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
    collected = request.config.stash.setdefault(FIGURES, [])

    def record(text: str) -> None:
        line = f"{request.node.name}: {text}"
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
