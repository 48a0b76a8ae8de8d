"""taxi_core/db.py: however many pooled connections read a large SQLite database at random, SQLite
holds no more than SQLITE_SOFT_HEAP_LIMIT in the process, as SQLite itself counts it
(sqlite3_memory_used), each in a fresh interpreter; SQLite only, the limit being SQLite's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from taxi_core.db import SQLITE_SOFT_HEAP_LIMIT

# The backend's pool of 8 connections, each reading rows of a 30 MB table by random key (as
# trips are found by their random nk), then SQLite's count of its memory. "unlimited" turns
# the limit off on every connection, to show what it holds back.
POOL_READS = textwrap.dedent(
    """
    import ctypes, random, sqlite3, sys, uuid
    from sqlalchemy import text
    from taxi_core.db import make_engine
    libsqlite = ctypes.CDLL("libsqlite3.so.0")
    libsqlite.sqlite3_memory_used.restype = ctypes.c_int64
    libsqlite.sqlite3_libversion.restype = ctypes.c_char_p
    # The library this process's sqlite3 module runs on, not a copy of its own.
    assert libsqlite.sqlite3_libversion().decode() == sqlite3.sqlite_version
    path, mode = sys.argv[1:]
    engine = make_engine(f"sqlite:///{path}", pool_size=8)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, nk TEXT UNIQUE, pad TEXT)"))
        connection.execute(text("INSERT INTO t (nk, pad) VALUES (:nk, :pad)"),
                           [{"nk": uuid.uuid4().hex, "pad": "x" * 200} for _ in range(100_000)])
        keys = connection.execute(text("SELECT nk FROM t")).scalars().all()
    pool = [engine.connect() for _ in range(8)]
    if mode == "unlimited":
        for connection in pool:
            connection.exec_driver_sql("PRAGMA soft_heap_limit=0")
    for i in range(20_000):
        pool[i % 8].execute(text("SELECT * FROM t WHERE nk = :nk"), {"nk": random.choice(keys)}).all()
    print(libsqlite.sqlite3_memory_used())
    """
)


def sqlite_memory(tmp_path, mode: str) -> int:
    path = tmp_path / f"{mode}.sqlite3"
    done = subprocess.run([sys.executable, "-c", POOL_READS, str(path), mode], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return int(done.stdout)


def test_sqlite_holds_no_more_than_its_limit_where_the_pool_s_page_caches_would_hold_twice_that(tmp_path):
    assert sqlite_memory(tmp_path, "unlimited") > 1.5 * SQLITE_SOFT_HEAP_LIMIT  # 8 caches of 2 MiB each
    assert sqlite_memory(tmp_path, "limited") <= 1.02 * SQLITE_SOFT_HEAP_LIMIT
