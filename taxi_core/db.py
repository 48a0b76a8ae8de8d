"""Engines and units of work: SQLite tuned for concurrent use, PostgreSQL with a checked pool;
and the check, before anything starts, that the database taxi was given can be used."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager, nullcontext
from typing import Iterator

from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from .database_errors import (
    DatabaseDriverUnknown,
    DatabaseFileUnusable,
    DatabaseMissing,
    DatabaseUnreachable,
    DatabaseUnusable,
    DatabaseURLInvalid,
)

# Seconds a SQLite writer waits for the lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 15
# What SQLite may hold in the whole process (sqlite3_soft_heap_limit64, set by a PRAGMA on every
# connection: the limit is the process's, one number however large the pool). Without it each
# pooled connection keeps its own page cache of up to 2 MiB (SQLite's default cache_size) and
# fills it as the database grows: 16 MiB for the backend's pool of 8, read at random through
# the trips' random keys. At the limit, SQLite reuses its least recently used pages instead of
# taking more; the pages it drops stay in the operating system's file cache.
SQLITE_SOFT_HEAP_LIMIT = 8 * 2**20
# Seconds the start-up check waits for a PostgreSQL server that does not answer.
CHECK_CONNECT_TIMEOUT = 5
# Every PostgreSQL server has it; the check asks it whether the database taxi wants exists.
POSTGRES_MAINTENANCE_DATABASE = "postgres"


def engine_url(url: str) -> URL:
    """The URL with its driver spelled out: a bare ``postgresql://`` means psycopg2.

    SQLAlchemy 2.1 made psycopg 3 the default PostgreSQL driver; taxi installs psycopg2.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        return parsed.set(drivername="postgresql+psycopg2")
    return parsed


def check_database(url: str) -> None:
    """Connects once (and on SQLite takes the write lock once), so that a database taxi cannot
    use is one DatabaseUnusable before anything starts, not a traceback from deep inside."""
    try:
        parsed = engine_url(url)
    except ArgumentError as error:
        raise DatabaseURLInvalid(_hide_password(url), str(error)) from error
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = _checking_engine(parsed)
    except (NoSuchModuleError, ImportError) as error:
        raise DatabaseDriverUnknown(shown, str(error), parsed.drivername) from error
    try:
        with engine.connect() as connection:
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.exec_driver_sql("ROLLBACK")
    except DBAPIError as error:
        raise _unusable(parsed, shown, error) from error
    finally:
        engine.dispose()


def _checking_engine(url: URL) -> Engine:
    connect_args = {"connect_timeout": CHECK_CONNECT_TIMEOUT} if url.drivername == "postgresql+psycopg2" else {}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _unusable(url: URL, shown: str, error: DBAPIError) -> DatabaseUnusable:
    reason = " ".join(str(error.orig).split())
    if url.get_backend_name() == "sqlite":
        return DatabaseFileUnusable(shown, reason, url.database)
    if url.get_backend_name() == "postgresql" and _server_lacks_database(url):
        return DatabaseMissing(shown, reason, url)
    return DatabaseUnreachable(shown, reason)


def _server_lacks_database(url: URL) -> bool:
    """Asked of the server itself: its message for a missing database is in the server's language."""
    if url.database in (None, POSTGRES_MAINTENANCE_DATABASE):
        return False
    server = _checking_engine(url.set(database=POSTGRES_MAINTENANCE_DATABASE))
    try:
        with server.connect() as connection:
            found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database})
            return found.first() is None
    except DBAPIError:
        return False
    finally:
        server.dispose()


def _hide_password(url_text: str) -> str:
    """A URL that does not parse may still hold a password (scheme://user:password@host)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url_text)


def make_engine(url: str, pool_size: int = 8) -> Engine:
    url = engine_url(url)
    if url.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, pool_size)
    # pre_ping: a connection that died with a database restart is replaced, not handed out.
    return create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)


def _make_sqlite_engine(url: URL, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite opens transactions lazily and on its own terms; take that over so
        # that BEGIN is ours to choose (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; NORMAL is durable across crashes
        # of the process (not of the machine), the usual trade for WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_SOFT_HEAP_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction takes the write lock up front (IMMEDIATE), so it waits on
        # busy_timeout at BEGIN instead of failing with "database is locked" when a read
        # lock would have to be upgraded midway.
        mode = "IMMEDIATE" if connection.get_execution_options().get("taxi_write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """Hands out one session per unit of work; nothing it returns outlives the transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time. Left to SQLite, the threads of this process that
        # wait for the write lock poll for it in its busy handler, sleeping longer each time
        # (up to 100 ms), and may sleep long after the lock is free; queued on a lock of
        # our own, the next writer starts the moment the last one commits. The busy timeout
        # still covers writers in other processes. Reentrant, so a nested write unit of work
        # fails on the busy timeout as it always did, instead of waiting here forever.
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else nullcontext()

    @classmethod
    def from_url(cls, url: str, pool_size: int = 8) -> "Database":
        return cls(make_engine(url, pool_size))

    @contextmanager
    def unit_of_work(self, *, write: bool) -> Iterator[Session]:
        with self._writer if write else nullcontext(), self._sessions.begin() as session:
            session.connection(execution_options={"taxi_write": write})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
