"""A backend's Prometheus metrics: what they are, and how a call is recorded.

Every client procedure goes through one place, TripProcedures' handler (components/trips.py),
which tells `called` how each call ended: its procedure, "ok" or the error URI it was answered
with (components/errors.py's few: the labels stay a small set), and how long it took on this
backend, from the INVOCATION to the answer. What the router answers itself (no backend, a
refusal, a backend gone mid-call) never reaches a backend, and is not counted here.
The gauges are filled at scrape time (components/metrics_http.py): from the database (trips
by status, offers, the outbox) and from the router (sessions by role).

Each backend has a registry of its own (not prometheus_client's global one), so that a test can
make as many as it likes and a scrape shows only taxi's figures, not the Python process's.
"""

from __future__ import annotations

import time
from typing import Callable

from autobahn.wamp.exception import ApplicationError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from twisted.python.failure import Failure

from taxi_core.operations import Figures

from .errors import INTERNAL

OK = "ok"
# Seconds: from a cached authorization's few milliseconds to the busy timeout of a SQLite writer
# (taxi_core.db.SQLITE_BUSY_TIMEOUT); p99 in docs/benchmarks.md is 10-100 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
# The roles whose sessions are counted (the router's own trusted sessions are not clients).
SESSION_ROLES = ("anonymous", "rider", "driver", "backend")


class Metrics:
    """`clock` gives seconds (time.monotonic; a test's fake clock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter("taxi_calls", "Calls served by this backend, by procedure and outcome (ok or the error URI).",
                             ["procedure", "outcome"], registry=registry)  # fmt: skip
        self.latency = Histogram("taxi_call_seconds", "Time this backend took to answer a call, by procedure.",
                                 ["procedure"], buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.sessions = Gauge("taxi_sessions", "Sessions joined at the router, by role (asked of the router at scrape time).",
                              ["role"], registry=registry)  # fmt: skip
        self.trips = Gauge("taxi_trips", "Trips in the database, by status.", ["status"], registry=registry)
        self.offers = Gauge("taxi_offers", "Offers made to drivers, ever (one per trip and driver).", registry=registry)
        self.outbox = Gauge("taxi_outbox_events", "Events committed but not yet acknowledged by the router.", registry=registry)
        self.outbox_age = Gauge("taxi_outbox_oldest_seconds", "How long the oldest unpublished event has waited (0: none).",
                                registry=registry)  # fmt: skip
        self.up = Gauge("taxi_scrape_ok", "1 if this scrape reached the database and the router, else 0, by source.",
                        ["source"], registry=registry)  # fmt: skip

    def called(self, result, procedure: str, started: float):
        """An addBoth: records the call's outcome and time, and passes its result (or failure) on."""
        self.latency.labels(procedure).observe(max(self.clock() - started, 0.0))
        self.calls.labels(procedure, outcome(result)).inc()
        return result

    def saw_figures(self, figures: Figures) -> None:
        for status, count in figures.trips.items():
            self.trips.labels(status).set(count)
        self.offers.set(figures.offers)
        self.outbox.set(figures.outbox)
        self.outbox_age.set(figures.outbox_oldest_seconds)

    def saw_sessions(self, counts: dict[str, int]) -> None:
        for role, count in counts.items():
            self.sessions.labels(role).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def outcome(result) -> str:
    """"ok", or the URI the caller is answered with. By the time a call's failure gets here the
    handler has made every failure an ApplicationError (components/errors.py)."""
    if not isinstance(result, Failure):
        return OK
    if result.check(ApplicationError):
        return result.value.error
    return INTERNAL
