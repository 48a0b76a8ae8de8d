"""The trip-event log's shapes and the outbox rule; no I/O.

Every change of a trip is one event: the trip's next seq (1, 2, 3, ...), the status after it,
who did it and from which WAMP session. Its publication carries the trip as after the event,
so a subscriber tells a duplicate or a late event by its seq alone. An event is published
from the outbox after its transaction commits; what was not (the backend died, the router
was away) stays there, and a sweep publishes it later: at least once, in order per trip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from .domain import Role, TripStatus

SERVICE_ROLE = "service"  # the actor of what no user did (migration 0002's event 1 of older trips)
ACTOR_ROLES = (Role.RIDER.value, Role.DRIVER.value, SERVICE_ROLE)

# A live backend publishes its events right after the commit; the sweep leaves younger rows
# to it, so that the two do not race to publish the same event.
SWEEP_GRACE = dt.timedelta(seconds=5)
# How long a backend holds the sweep's lease unless it renews it: long enough to outlast a
# sweep, short enough that another backend takes over soon after the holder died.
LEASE_TERM = dt.timedelta(seconds=15)
SWEEP_BATCH = 500

# Of a trip without a pick-up location, every driver hears of it coming up for grabs
# (REQUESTED), being taken (STARTED, always the accept) and going away (CANCELED): what changes
# the list of trips they may accept. A located trip is told only to the drivers it is offered
# to (taxi_core.dispatching).
_DRIVERS_HEAR = frozenset({TripStatus.REQUESTED, TripStatus.STARTED, TripStatus.CANCELED})
OFFER_OPEN = "open"
OFFER_CLOSED = "closed"


@dataclass(frozen=True)
class DriverNotice:
    """One publication of an event on the drivers' topic: to the drivers `eligible` (authids;
    None: every driver), with the keyword arguments offer= and expires= when they are set."""

    eligible: tuple[str, ...] | None = None
    offer: str | None = None  # OFFER_OPEN or OFFER_CLOSED
    expires: str | None = None  # ISO 8601 UTC: when an open offer's window ends

    def as_json(self) -> dict:
        eligible = None if self.eligible is None else list(self.eligible)
        return {"eligible": eligible, "offer": self.offer, "expires": self.expires}

    @classmethod
    def from_json(cls, data: dict) -> "DriverNotice":
        eligible = data["eligible"]
        return cls(None if eligible is None else tuple(eligible), data["offer"], data["expires"])


def to_every_driver(status: TripStatus) -> tuple[DriverNotice, ...]:
    """The drivers' notices of an event of a trip without a pick-up location."""
    return (DriverNotice(),) if status in _DRIVERS_HEAR else ()


@dataclass(frozen=True)
class Publication:
    """One event to publish: ``trip`` is the trip as after the event (its "seq" is ``seq``).

    ``retain``: whether the router is to keep it as the trip's latest state for late
    subscribers; not for an event the trip has moved on from (a stuck one published late), or
    a late subscriber would be handed an old state. ``notices``: what the drivers' topic is
    told of it (none, or to every driver, or offers to some)."""

    event_id: int
    nk: str
    seq: int
    trip: dict
    retain: bool = True
    notices: tuple[DriverNotice, ...] = ()


def in_publication_order(publications: Iterable[Publication]) -> list[Publication]:
    """Oldest first within each trip (the order a subscriber must see them in); trips apart
    keep the order in which they first appear."""
    publications = list(publications)
    first_seen: dict[str, int] = {}
    for position, publication in enumerate(publications):
        first_seen.setdefault(publication.nk, position)
    return sorted(publications, key=lambda p: (first_seen[p.nk], p.seq))


def stuck_before(now: dt.datetime) -> dt.datetime:
    """Rows of events made before this are stuck: the sweep's to publish, or the next step's of
    the same trip. Younger ones are in their own backend's hands (published, or about to be,
    their rows not yet forgotten); publishing them again would only make duplicates."""
    return now - SWEEP_GRACE


def lease_until(now: dt.datetime) -> dt.datetime:
    return now + LEASE_TERM
