"""Holds a History against the database: what was acknowledged must be there, once, with one driver."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from taxi_core.db import engine_url

from .harness import History

TRIPS = text(
    """
    SELECT t.nk, t.request_id, t.status, r.username AS rider, d.username AS driver
    FROM trips t JOIN users r ON r.id = t.rider_id LEFT JOIN users d ON d.id = t.driver_id
    """
)


@dataclass
class Verdict:
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

    def broken(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.PROMISES if getattr(self, name)}

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> str:
        return (
            f"{self.requests} requests + {self.accepts} accepts, {self.attempts} attempts "
            f"(ok {self.ok}, failed {self.failed}, unknown {self.unknown}); "
            f"{self.uncertain_ops} uncertain operations, {self.resolved} resolved by trip.get; "
            f"lost {self.lost}, duplicates {self.duplicates}, two drivers {self.two_drivers}, "
            f"half-written {self.half_written}, unresolved {self.unresolved}"
        )


def read_trips(database_url: str) -> list[dict]:
    engine = create_engine(engine_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(TRIPS)]
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
    verdict.half_written = sum(
        (row["status"] == "REQUESTED") != (row["driver"] is None) and row["status"] != "CANCELED" for row in rows
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
