"""Did every offer event reach exactly its batch? The drivers' deliveries against the offers
the database made (the offers table: one row per trip and driver, with the round).

- an offer="open" event of round r of a trip belongs to the drivers offered it in round r:
  to anyone else it is *stray*; an offered driver who never got his is *missed*;
- an offer="closed" event belongs to drivers offered the trip in that round or before;
- an event without an offer (an unlocated trip's, to every driver) is stray: every trip of
  the city has a pick-up location;
- the same event twice to one driver is a *duplicate* (delivery is at least once: allowed,
  counted apart);
- an offered driver with no "closed" at all once the trip ended is *left open* (his app would
  show the offer until it timed out by itself).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from sqlalchemy import select

from taxi_core.db import Database
from taxi_core.models import Trip, TripOffer, User

from .ledger import Delivery

Offers = dict  # (nk, authid) -> the round he was offered the trip in


def audit(deliveries: Iterable[Delivery], offers: Offers, ended: set[str]) -> dict:
    deliveries = list(deliveries)
    copies = Counter(deliveries)
    once = list(copies)
    opened = {(d.nk, d.authid, d.round) for d in once if d.offer == "open"}
    closed = {(d.nk, d.authid) for d in once if d.offer == "closed"}
    stray = [d for d in once if not _belongs(d, offers)]
    return {
        "offers_made": len(offers),
        "events": len(deliveries),
        "open": sum(1 for d in deliveries if d.offer == "open"),
        "closed": sum(1 for d in deliveries if d.offer == "closed"),
        "stray": sum(copies[d] for d in stray),
        "missed": sum(1 for (nk, authid), r in offers.items() if (nk, authid, r) not in opened),
        "duplicates": sum(n - 1 for n in copies.values()),
        "left_open": sum(1 for key in offers if key[0] in ended and key not in closed),
        "stray_examples": [repr(d) for d in stray[:5]],
    }


def _belongs(delivery: Delivery, offers: Offers) -> bool:
    offered_in = offers.get((delivery.nk, delivery.authid))
    if delivery.offer == "open":
        return offered_in == delivery.round
    if delivery.offer == "closed":
        return offered_in is not None and offered_in <= delivery.round
    return False


def exact(result: dict) -> bool:
    """The issue's "every offer reaches exactly its batch"."""
    return result["stray"] == 0 and result["missed"] == 0


def offers_in(database_url: str, tag: str) -> Offers:
    """The offers of this run's trips (their pick-up addresses start with `tag`); blocking."""
    database = Database.from_url(database_url, pool_size=1)
    query = (
        select(Trip.nk, User.username, TripOffer.round)
        .join(TripOffer, TripOffer.trip_id == Trip.id)
        .join(User, User.id == TripOffer.driver_id)
        .where(Trip.pick_up_address.startswith(tag, autoescape=True))
    )
    try:
        with database.unit_of_work(write=False) as session:
            return {(nk, username): round_ for nk, username, round_ in session.execute(query)}
    finally:
        database.dispose()
