"""Brand-new databases on SQLite and PostgreSQL, for any test runner.

`new_database(backend)` is a context manager that yields the database's URL and removes the
database afterwards. PostgreSQL lives at TAXI_TEST_POSTGRES_URL (a server URL; each database is
made on it and dropped again). Where that server cannot be reached, the one policy below holds
for pytest and trial alike: under CI=true the test fails, since CI must test PostgreSQL; elsewhere
it is skipped (unittest's SkipTest, which both runners report as a skip).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import unittest
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from taxi_core.db import engine_url
from taxi_core.migrate import migrate

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgreSQLUnreachable(Exception):
    """CI must test PostgreSQL: a server it cannot reach fails the test."""


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def postgresql_unreachable(server_url: str, error: Exception) -> BaseException:
    """What a test gets when the PostgreSQL server cannot be reached: a failure on CI, a skip elsewhere."""
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
    message = f"PostgreSQL at {make_url(server_url)!r} cannot be reached: {reason}"
    if on_ci():
        return PostgreSQLUnreachable(f"{message}; CI must test PostgreSQL too")
    return unittest.SkipTest(f"{message}; set TAXI_TEST_POSTGRES_URL to test on PostgreSQL")


@contextmanager
def new_database(backend: str, directory: Path | None = None, *, migrated: bool = False) -> Iterator[str]:
    """A brand-new database's URL (SQLite: a file in `directory`, or in a temporary one)."""
    if backend == "sqlite":
        database = _new_sqlite_database(directory)
    elif backend == "postgresql":
        database = _new_postgresql_database()
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    with database as url:
        if migrated:
            migrate(url)
        yield url


@contextmanager
def _new_sqlite_database(directory: Path | None) -> Iterator[str]:
    if directory is not None:
        yield f"sqlite:///{directory / 'taxi.sqlite3'}"
        return
    with tempfile.TemporaryDirectory(prefix="taxi-test-sqlite-") as temporary:
        yield f"sqlite:///{Path(temporary) / 'taxi.sqlite3'}"


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
        raise postgresql_unreachable(server_url, error) from None
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            # FORCE: a test that failed midway may still hold connections.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()
