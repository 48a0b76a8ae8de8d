"""The offer policy of a located request: (the drivers near it, the offers so far, now) -> what
to do next. Plain functions, no I/O; time is passed in.

A located request is offered to the `batch` nearest available drivers within `max_km`, for
`offer_seconds`; when that window ends, to the next batch (further out, since the nearer ones
have had it), and so on until a driver accepts or the request expires, `request_timeout_seconds`
after it was made. While nobody is in reach the request waits, looking again every RETRY.

A driver is available when he is online (his client said so: the database keeps only online
drivers' positions for the search), heard from within `stale_seconds`, has no trip under
way (STARTED or IN_PROGRESS) and has not been offered this trip before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable, Union

from . import geo

# How soon a request nobody is in reach of looks again: about how often a moving driver's
# position changes enough to matter (clients send theirs every few seconds).
RETRY = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Policy:
    batch: int = 3
    offer_seconds: float = 15.0
    max_km: float = 10.0
    request_timeout_seconds: float = 120.0
    stale_seconds: float = 30.0

    def expires_at(self, requested: dt.datetime) -> dt.datetime:
        return requested + dt.timedelta(seconds=self.request_timeout_seconds)


@dataclass(frozen=True)
class Candidate:
    """A driver near the pick-up, as the database knows him."""

    driver_id: int
    authid: str
    position: geo.Point
    seen: dt.datetime  # his latest driver.locate
    busy: bool  # he drives a STARTED or IN_PROGRESS trip
    offered: bool  # this trip has been offered to him already


@dataclass(frozen=True)
class DispatchState:
    """What the policy needs of a located REQUESTED trip."""

    pick_up: geo.Point
    expires_at: dt.datetime
    radius_km: float | None  # of the farthest driver offered so far; None before the first offer


@dataclass(frozen=True)
class Offer:
    drivers: tuple[Candidate, ...]  # nearest first
    radius_km: float  # the farthest driver offered so far, this batch included
    window_until: dt.datetime


@dataclass(frozen=True)
class Expire:
    pass


@dataclass(frozen=True)
class Wait:
    until: dt.datetime


Step = Union[Offer, Expire, Wait]


def available(policy: Policy, candidate: Candidate, now: dt.datetime) -> bool:
    fresh = candidate.seen >= now - dt.timedelta(seconds=policy.stale_seconds)
    return fresh and not candidate.busy and not candidate.offered


def next_step(
    policy: Policy, trip: DispatchState, candidates: Iterable[Candidate], now: dt.datetime, *, reach_km: float | None = None
) -> Step:
    """Expire once the request's time is up; else offer the batch nearest available drivers
    within reach (max_km, or less: `reach_km`, one step of a widening search); else wait."""
    if now >= trip.expires_at:
        return Expire()
    reach = policy.max_km if reach_km is None else min(reach_km, policy.max_km)
    near = [(c.position, c) for c in candidates if available(policy, c, now)]
    chosen = geo.nearest(trip.pick_up, near, policy.batch, reach)
    if not chosen:
        return Wait(min(now + RETRY, trip.expires_at))
    return Offer(
        drivers=tuple(candidate for _, candidate in chosen),
        radius_km=max(trip.radius_km or 0.0, chosen[-1][0]),
        window_until=min(now + dt.timedelta(seconds=policy.offer_seconds), trip.expires_at),
    )


def search(
    policy: Policy, trip: DispatchState, near: Callable[[geo.Box], Iterable[Candidate]], now: dt.datetime
) -> Step:
    """next_step over a widening search: `near(box)` is the database's candidates in the box.

    The box grows (geo.widening) until it holds a whole batch of available drivers within
    its radius, so that no nearer driver can be outside it, or reaches max_km."""
    if now >= trip.expires_at:
        return Expire()  # no need to look
    for km in geo.widening(policy.max_km):
        step = next_step(policy, trip, near(geo.bounding_box(trip.pick_up, km)), now, reach_km=km)
        if isinstance(step, Offer) and len(step.drivers) == policy.batch:
            return step
    return step
