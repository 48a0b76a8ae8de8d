"""The one bounded thread pool in which all blocking database work runs (cf. buildbot's db pool).

Callers hand over a function holding all the blocking work; it runs on a pool thread with
its own session(s) and returns plain data, and only that crosses back to the reactor.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from taxi_core.db import Database

T = TypeVar("T")


class DBPool(Service):
    def __init__(self, reactor, database: Database, size: int):
        self._reactor = reactor
        self._database = database
        # No more threads than the engine has connections: a thread never holds a pool
        # slot while it waits for a connection.
        self._threads = ThreadPool(minthreads=0, maxthreads=size, name="taxi-db")

    def startService(self) -> None:
        super().startService()
        self._threads.start()

    def stopService(self) -> Deferred:
        super().stopService()
        # Dispose inside the pool, after the work already queued, then let the threads go.
        d = self.run(self._database.dispose)
        d.addBoth(lambda _: self._threads.stop())
        return d

    def run(self, thd: Callable[..., T], *args, **kwargs) -> "Deferred[T]":
        return deferToThreadPool(self._reactor, self._threads, thd, *args, **kwargs)
