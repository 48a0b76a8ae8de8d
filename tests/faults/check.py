"""Holds a History against the database: what was acknowledged must be there, once, with one driver;
and Deliveries against the trip-event log: every committed event reached its subscribers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from components.uris import DRIVERS_TOPIC, trip_topic
from taxi_core.db import engine_url
from taxi_core.domain import TripStatus
from taxi_core.events import to_every_driver

from .harness import Deliveries, History

TRIPS = text(
    """
    SELECT t.nk, t.request_id, t.status, r.username AS rider, d.username AS driver
    FROM trips t JOIN users r ON r.id = t.rider_id LEFT JOIN users d ON d.id = t.driver_id
    """
)
EVENTS = text("SELECT t.nk, e.seq, e.status FROM trip_events e JOIN trips t ON t.id = e.trip_id")
OUTBOX_ROWS = text("SELECT count(*) AS n FROM outbox")


class _Promises:
    PROMISES: tuple[str, ...] = ()

    def broken(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.PROMISES if getattr(self, name)}

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Verdict(_Promises):
    requests: int = 0  # logical trip.request operations
    accepts: int = 0  # logical accept operations (trip.update to STARTED)
    attempts: int = 0
    ok: int = 0
    failed: int = 0
    unknown: int = 0  # attempts with an unknown outcome
    uncertain_ops: int = 0  # operations with at least one unknown attempt
    resolved: int = 0  # of those, settled by trip.get
    # The promises: each of these must be 0.
    lost: int = 0  # acknowledged trips (or accepts) that the database does not hold
    duplicates: int = 0  # one request_id, two trips (acknowledged or in the database), or trips nobody asked for
    two_drivers: int = 0  # trips acknowledged (or resolved) as won by two drivers, or held by another
    half_written: int = 0  # rows no use case writes: a started trip without driver, a requested one with one
    unresolved: int = 0  # operations whose unknown outcome trip.get could not settle

    PROMISES = ("lost", "duplicates", "two_drivers", "half_written", "unresolved")

    def summary(self) -> str:
        return (
            f"{self.requests} requests + {self.accepts} accepts, {self.attempts} attempts "
            f"(ok {self.ok}, failed {self.failed}, unknown {self.unknown}); "
            f"{self.uncertain_ops} uncertain operations, {self.resolved} resolved by trip.get; "
            f"lost {self.lost}, duplicates {self.duplicates}, two drivers {self.two_drivers}, "
            f"half-written {self.half_written}, unresolved {self.unresolved}"
        )


def read_trips(database_url: str) -> list[dict]:
    return _read(database_url, TRIPS)


def committed_events(database_url: str) -> dict[tuple[str, int], str]:
    """(nk, seq) -> status of every event in the trip-event log."""
    return {(row["nk"], row["seq"]): row["status"] for row in _read(database_url, EVENTS)}


def outbox_rows(database_url: str) -> int:
    """Events committed and not yet acknowledged by the router (blocking: call it off the reactor)."""
    return _read(database_url, OUTBOX_ROWS)[0]["n"]


def _read(database_url: str, query) -> list[dict]:
    engine = create_engine(engine_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]
    finally:
        engine.dispose()


def check(history: History, database_url: str) -> Verdict:
    rows = read_trips(database_url)
    by_nk = {row["nk"]: row for row in rows}
    verdict = Verdict()
    attempts = history.attempts()
    verdict.attempts = len(attempts)
    for outcome in ("ok", "failed", "unknown"):
        setattr(verdict, outcome, sum(op.outcome == outcome for op in attempts))
    operations = history.operations()
    _check_requests(verdict, operations, rows, by_nk)
    _check_accepts(verdict, history, operations, by_nk)
    _check_resolutions(verdict, history, operations)
    # Nobody accepted a requested or expired trip; a canceled one may have had a driver or not.
    verdict.half_written = sum(
        (row["status"] in ("REQUESTED", "EXPIRED")) != (row["driver"] is None) and row["status"] != "CANCELED"
        for row in rows
    )
    return verdict


def _check_requests(verdict: Verdict, operations: dict, rows: list[dict], by_nk: dict) -> None:
    asked = set()
    for (kind, rider, request_id), attempts in operations.items():
        if kind != "request":
            continue
        verdict.requests += 1
        asked.add((rider, request_id))
        given = {op.result["nk"] for op in attempts if op.outcome == "ok"}
        verdict.duplicates += max(len(given) - 1, 0)
        for nk in given:
            row = by_nk.get(nk)
            if row is None or (row["rider"], row["request_id"]) != (rider, request_id):
                verdict.lost += 1
    riders = {rider for rider, _ in asked}
    made = Counter((row["rider"], row["request_id"]) for row in rows if row["rider"] in riders)
    for key, count in made.items():
        verdict.duplicates += count - 1 if key in asked else count


def _check_accepts(verdict: Verdict, history: History, operations: dict, by_nk: dict) -> None:
    winners: dict[str, set[str]] = {}
    for (kind, driver, nk), attempts in operations.items():
        if kind != "accept":
            continue
        verdict.accepts += 1
        answer = history.resolutions.get((kind, driver, nk))
        acknowledged = any(op.outcome == "ok" for op in attempts)
        resolved_won = answer is not None and answer.outcome == "ok" and answer.result["driver"] == driver
        if acknowledged or resolved_won:
            winners.setdefault(nk, set()).add(driver)
        if acknowledged and (by_nk.get(nk) or {}).get("driver") != driver:
            verdict.lost += 1  # an acknowledged accept the database does not show
    for nk, drivers in winners.items():
        held_by = (by_nk.get(nk) or {}).get("driver")
        if len(drivers) > 1 or held_by not in drivers:
            verdict.two_drivers += 1
    # A trip held by a driver who was told (for good) that he lost it.
    raced = {nk for kind, _, nk in operations if kind == "accept"}
    verdict.two_drivers += sum(1 for nk in raced if by_nk[nk]["driver"] is not None and nk not in winners)


def _check_resolutions(verdict: Verdict, history: History, operations: dict) -> None:
    for key, attempts in operations.items():
        if all(op.outcome != "unknown" for op in attempts):
            continue
        verdict.uncertain_ops += 1
        kind, process, _ = key
        answer = history.resolutions.get(key)
        if answer is None:
            settled = False
        elif kind == "request":
            settled = answer.outcome == "ok" and answer.result["rider"] == process
        else:  # an accept: trip.get shows the driver, or hides a trip someone else took
            settled = answer.outcome == "ok" or answer.result == "taxi.error.not_found"
        verdict.resolved += settled
        verdict.unresolved += not settled


@dataclass
class EventVerdict(_Promises):
    trips: int = 0
    committed: int = 0  # events in the trip_events table
    owed: int = 0  # deliveries owed: each committed event to each of its subscribers
    received: int = 0  # deliveries, copies and retained ones included
    retained: int = 0  # of those, handed over on subscribing
    duplicates: int = 0  # a subscriber's further copies of one event (same seq, same payload): dropped by seq
    stale: int = 0  # events older than one the subscriber already had for the trip: dropped by seq as well
    # The promises: each of these must be 0.
    lost: int = 0  # owed deliveries that never came
    mismatched: int = 0  # an event unlike another copy of its seq, unlike the log's status, or on another trip's topic
    unknown: int = 0  # events of a (trip, seq) the log does not hold: a change that never committed
    unfollowed: int = 0  # trips no rider followed: whether their events arrived cannot be told

    PROMISES = ("lost", "mismatched", "unknown", "unfollowed")

    def summary(self) -> str:
        return (
            f"{self.trips} trips, {self.committed} events committed, {self.owed} deliveries owed, "
            f"{self.received} received ({self.retained} retained, {self.duplicates} duplicates, {self.stale} stale); "
            f"lost {self.lost}, mismatched {self.mismatched}, unknown {self.unknown}, unfollowed {self.unfollowed}"
        )


def check_events(deliveries: Deliveries, database_url: str) -> EventVerdict:
    """Each rider owes its trips' every event, each driver every event that tells the drivers."""
    log = committed_events(database_url)
    trips = {nk for nk, _ in log}
    verdict = EventVerdict(trips=len(trips), committed=len(log), received=len(deliveries.received))
    verdict.retained = sum(delivery.retained for delivery in deliveries.received)
    verdict.unfollowed = len(trips - set(deliveries.followed))
    owed = _owed(log, deliveries)
    got = _arrivals(verdict, log, deliveries)
    verdict.owed = len(owed)
    verdict.lost = len(owed - got)
    return verdict


def _owed(log: dict, deliveries: Deliveries) -> set[tuple]:
    owed = set()
    for (nk, seq), status in log.items():
        if nk in deliveries.followed:
            owed.add((deliveries.followed[nk], trip_topic(nk), nk, seq))
        # The outbox's own rule of which events of an unlocated trip the drivers hear of.
        if to_every_driver(TripStatus(status)):
            owed.update((driver, DRIVERS_TOPIC, nk, seq) for driver in deliveries.drivers)
    return owed


def _arrivals(verdict: EventVerdict, log: dict, deliveries: Deliveries) -> set[tuple]:
    """(subscriber, topic, nk, seq) of every event received; counts copies, stale and wrong ones."""
    got: set[tuple] = set()
    first_copy: dict[tuple, dict] = {}
    newest: dict[tuple, int] = {}  # (subscriber, topic, nk) -> the greatest seq it has had
    for delivery in deliveries.received:
        nk, seq = delivery.trip["nk"], delivery.trip["seq"]
        if (nk, seq) not in log:
            verdict.unknown += 1
            continue
        copy = first_copy.setdefault((nk, seq), delivery.trip)
        verdict.mismatched += (
            delivery.trip != copy
            or delivery.trip["status"] != log[nk, seq]
            or delivery.topic not in (DRIVERS_TOPIC, trip_topic(nk))
        )
        stream = (delivery.subscriber, delivery.topic, nk)
        if (*stream, seq) in got:
            verdict.duplicates += 1
        elif seq < newest.get(stream, 0):
            verdict.stale += 1
        got.add((*stream, seq))
        newest[stream] = max(newest.get(stream, 0), seq)
    return got
