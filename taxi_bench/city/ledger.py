"""What the city's clients saw, as they saw it: each trip's moments, every event delivered to
a driver, the position updates. All times are time.perf_counter() in this one process."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from twisted.internet import defer

ENDINGS = ("COMPLETED", "EXPIRED", "CANCELED")


@dataclass
class CityTrip:
    requested_at: float | None = None  # the rider's trip.request call went out
    result_at: float | None = None
    first_offer_at: float | None = None  # the first offer="open" event reached one of its drivers
    accepted_at: float | None = None  # the winning driver's STARTED call returned
    ended_at: float | None = None
    outcome: str | None = None  # one of ENDINGS, as the rider heard it
    rounds_offered: int = 0  # the highest dispatch round whose offer a driver received
    ended: defer.Deferred = field(default_factory=defer.Deferred)


@dataclass(frozen=True)
class Delivery:
    """One event on taxi.drivers, as one driver's client received it."""

    authid: str
    nk: str
    seq: int
    offer: str | None  # "open", "closed", or None (an unlocated trip's event)
    round: int  # the trip's dispatch round in the event (0 without dispatch)


class Ledger:
    def __init__(self, tag: str):
        self.tag = tag  # the run's users and trips carry it: others' trips on a shared node are not ours
        self.trips: dict[str, CityTrip] = {}
        self.deliveries: list[Delivery] = []
        self.rider_deliveries = 0  # events on the riders' taxi.trip.<nk> subscriptions
        self.locates = 0  # driver.locate calls answered
        self.locate_seconds: list[float] = []
        self.tick_lag_seconds: list[float] = []  # how late the bench's own clock ticks ran: it kept up?
        self.accepts_lost: Counter = Counter()  # accept calls refused, by error URI (races are normal)
        self.errors: list[str] = []

    def trip(self, nk: str) -> CityTrip:
        # A driver may hear of a trip before its rider has the request's result.
        trip = self.trips.get(nk)
        if trip is None:
            trip = self.trips[nk] = CityTrip()
        return trip

    def ours(self, trip: dict) -> bool:
        return trip.get("pick_up_address", "").startswith(self.tag)

    def delivered(self, authid: str, at: float, trip: dict, offer: str | None) -> None:
        round_ = (trip.get("dispatch") or {}).get("round", 0)
        self.deliveries.append(Delivery(authid, trip["nk"], trip["seq"], offer, round_))
        if offer == "open":
            record = self.trip(trip["nk"])
            if record.first_offer_at is None:
                record.first_offer_at = at
            record.rounds_offered = max(record.rounds_offered, round_)

    def end(self, nk: str, outcome: str, at: float) -> None:
        record = self.trip(nk)
        if record.outcome is None:
            record.outcome, record.ended_at = outcome, at
            record.ended.callback(outcome)

    def failed(self, what: str, error: BaseException) -> None:
        self.errors.append(f"{what}: {type(error).__name__}: {error}")

    def unended(self) -> list[str]:
        return [nk for nk, trip in self.trips.items() if trip.outcome is None]
