"""Holds what the drivers received on taxi.drivers against the database's dispatch of located
requests: each round made once, each driver offered a trip once, every offer delivered, and
every trip ended, none expired before its time nor long after it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import create_engine, select
from sqlalchemy.orm import aliased
from sqlalchemy.pool import NullPool

from components.uris import DRIVERS_TOPIC
from taxi_core.db import engine_url
from taxi_core.models import Trip, TripEvent, TripOffer, User

from .check import _Promises
from .harness import Deliveries

_DRIVER = aliased(User)
OFFERS = (
    select(Trip.nk, _DRIVER.username.label("driver"), TripOffer.round, TripOffer.offered)
    .join(Trip, Trip.id == TripOffer.trip_id)
    .join(_DRIVER, _DRIVER.id == TripOffer.driver_id)
)
TRIPS = select(Trip.nk, Trip.status, Trip.created, Trip.expires_at)
EXPIRIES = select(Trip.nk, TripEvent.created).join(Trip, Trip.id == TripEvent.trip_id).where(TripEvent.status == "EXPIRED")


@dataclass
class Dispatch:
    """The database's side, read once every trip has ended (typed columns: datetimes on SQLite too)."""

    offers: list[dict]  # nk, driver, round, offered
    trips: list[dict]  # nk, status, created, expires_at
    expired_at: dict[str, dt.datetime]  # nk -> its EXPIRED event's time


def read_dispatch(database_url: str) -> Dispatch:
    """(blocking: call it off the reactor)"""
    engine = create_engine(engine_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = [[dict(row._mapping) for row in connection.execute(query)] for query in (OFFERS, TRIPS, EXPIRIES)]
    finally:
        engine.dispose()
    offers, trips, expiries = rows
    return Dispatch(offers, trips, {row["nk"]: row["created"] for row in expiries})


@dataclass
class DispatchVerdict(_Promises):
    trips: int = 0
    offers: int = 0  # rows in the offers table: (trip, driver) pairs
    rounds: int = 0  # rounds made, over every trip
    opens: int = 0  # "open" offers received, copies included
    copies: int = 0  # further copies of one event (same seq): at-least-once delivery, dropped by seq
    accepted: int = 0
    expired: int = 0
    # The promises: each of these must be 0.
    double_offers: int = 0  # a driver offered one trip in two events, or in two rounds of the table
    rounds_twice: int = 0  # a round in two events, or rounds not 1, 2, 3, ... in the order they were made
    lost_offers: int = 0  # offers in the table that never reached their driver as "open"
    unended: int = 0  # trips still REQUESTED
    early: int = 0  # expired before created + the request timeout
    late: int = 0  # expired later than `lateness` after that

    PROMISES = ("double_offers", "rounds_twice", "lost_offers", "unended", "early", "late")

    def summary(self) -> str:
        return (
            f"{self.trips} trips ({self.accepted} accepted, {self.expired} expired), {self.rounds} rounds, "
            f"{self.offers} offers, {self.opens} received ({self.copies} copies); double offers {self.double_offers}, "
            f"rounds twice {self.rounds_twice}, lost offers {self.lost_offers}, unended {self.unended}, "
            f"early {self.early}, late {self.late}"
        )


def opens(deliveries: Deliveries) -> list:
    return [d for d in deliveries.received if d.topic == DRIVERS_TOPIC and d.notice.get("offer") == "open"]


def check_dispatch(deliveries: Deliveries, dispatch: Dispatch, timeout: float, lateness: float) -> DispatchVerdict:
    received = opens(deliveries)
    verdict = DispatchVerdict(trips=len(dispatch.trips), offers=len(dispatch.offers), opens=len(received))
    _check_received(verdict, received)
    _check_rounds(verdict, dispatch.offers)
    got = {(d.subscriber, d.trip["nk"]) for d in received}
    verdict.lost_offers = sum((offer["driver"], offer["nk"]) not in got for offer in dispatch.offers)
    _check_ends(verdict, dispatch, dt.timedelta(seconds=timeout), dt.timedelta(seconds=lateness))
    return verdict


def _check_received(verdict: DispatchVerdict, received: list) -> None:
    seqs = defaultdict(set)  # (driver, nk) -> the seqs of the events that offered it to him
    events = defaultdict(set)  # (nk, round) -> the seqs of the events that made that round
    copies = set()
    for delivery in received:
        nk, seq = delivery.trip["nk"], delivery.trip["seq"]
        verdict.copies += (delivery.subscriber, nk, seq) in copies
        copies.add((delivery.subscriber, nk, seq))
        seqs[delivery.subscriber, nk].add(seq)
        events[nk, delivery.trip["dispatch"]["round"]].add(seq)
    verdict.double_offers += sum(len(s) > 1 for s in seqs.values())
    verdict.rounds_twice += sum(len(s) > 1 for s in events.values())


def _check_rounds(verdict: DispatchVerdict, offers: list[dict]) -> None:
    by_trip = defaultdict(list)
    for offer in offers:
        by_trip[offer["nk"]].append(offer)
    for made in by_trip.values():
        made.sort(key=lambda offer: (offer["offered"], offer["round"]))
        rounds = [offer["round"] for offer in made]
        distinct = sorted(set(rounds))
        verdict.rounds += len(distinct)
        # In the order made, rounds never go back, and they count 1, 2, 3, ... without a gap.
        verdict.rounds_twice += rounds != sorted(rounds) or distinct != list(range(1, len(distinct) + 1))
        # One round's drivers are offered at one moment; a later round, later.
        times = {}
        for offer in made:
            times.setdefault(offer["round"], set()).add(offer["offered"])
        verdict.rounds_twice += sum(len(t) > 1 for t in times.values())
        drivers = [offer["driver"] for offer in made]
        verdict.double_offers += len(drivers) - len(set(drivers))


def _check_ends(verdict: DispatchVerdict, dispatch: Dispatch, timeout: dt.timedelta, lateness: dt.timedelta) -> None:
    for trip in dispatch.trips:
        verdict.unended += trip["status"] == "REQUESTED"
        verdict.accepted += trip["status"] in ("STARTED", "IN_PROGRESS", "COMPLETED")
        expired = dispatch.expired_at.get(trip["nk"])
        if trip["status"] == "EXPIRED" and expired is not None:
            verdict.expired += 1
            deadline = trip["created"] + timeout
            off = abs((trip["expires_at"] - deadline).total_seconds()) > 0.001  # its deadline is not its timeout's
            verdict.early += expired < deadline or off
            verdict.late += expired > deadline + lateness
