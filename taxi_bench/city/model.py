"""The simulated city, pure and seeded: where things are, how drivers move and decide.

A square `size_km` across around a fixed centre; positions are kilometres east and north of
the centre, turned into latitude and longitude (equirectangular: at 20 km the error is far
below what dispatch could notice). Drivers move by random waypoints: a point anywhere in the
city, driven to in a straight line at a city speed, then the next.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from taxi_core.geo import KM_PER_DEGREE, Point

CENTRE = Point(52.5219, 13.4132)  # Berlin, Alexanderplatz: any fixed place would do
SPEEDS_KMH = (15.0, 45.0)  # stop-and-go traffic to an arterial road, uniformly


@dataclass(frozen=True)
class City:
    centre: Point = CENTRE
    size_km: float = 20.0

    def random_km(self, rng: random.Random) -> tuple[float, float]:
        half = self.size_km / 2
        return rng.uniform(-half, half), rng.uniform(-half, half)

    def point(self, east_km: float, north_km: float) -> Point:
        lat = self.centre.lat + north_km / KM_PER_DEGREE
        lng = self.centre.lng + east_km / (KM_PER_DEGREE * math.cos(math.radians(self.centre.lat)))
        return Point(lat, lng)

    def random_point(self, rng: random.Random) -> Point:
        return self.point(*self.random_km(rng))


class Mover:
    """One driver's random-waypoint course: position(t) for t in seconds, never decreasing."""

    def __init__(self, city: City, rng: random.Random, start: float = 0.0):
        self._city, self._rng = city, rng
        self._from = city.random_km(rng)
        self._leg(start)

    def _leg(self, start: float) -> None:
        self._start = start
        self._to = self._city.random_km(self._rng)
        km_per_s = self._rng.uniform(*SPEEDS_KMH) / 3600
        self._seconds = max(math.dist(self._from, self._to) / km_per_s, 1e-9)

    def position(self, t: float) -> Point:
        while t >= self._start + self._seconds:
            self._from = self._to
            self._leg(self._start + self._seconds)
        share = (t - self._start) / self._seconds
        (x0, y0), (x1, y1) = self._from, self._to
        return self._city.point(x0 + (x1 - x0) * share, y0 + (y1 - y0) * share)


@dataclass(frozen=True)
class Behaviour:
    """How a driver answers an offer: he takes it with `accept_probability`, after a think-time
    (log-normal around `think_seconds`, at most `think_max_seconds`); one he does not take he
    lets lapse, as a driver who looks away does, so the offer passes to the next batch when
    its window ends. A driver answers one offer at a time."""

    accept_probability: float = 0.7
    think_seconds: float = 2.0
    think_spread: float = 0.5  # sigma of the logarithm: most think-times within ×/÷ 1.6
    think_max_seconds: float = 12.0  # inside the default offer window of 15 s

    def __post_init__(self):
        if not 0 <= self.accept_probability <= 1 or self.think_seconds <= 0:
            raise ValueError("the acceptance probability must be in [0, 1] and the think-time positive")

    def answer(self, rng: random.Random) -> float | None:
        """The seconds until he accepts, or None if he lets the offer lapse."""
        if rng.random() >= self.accept_probability:
            return None
        think = rng.lognormvariate(math.log(self.think_seconds), self.think_spread)
        return min(think, self.think_max_seconds)


def arrivals(rng: random.Random, rate: float, *, duration: float | None = None, trips: int | None = None):
    """The request times (seconds from the start) of a Poisson process of `rate` a second,
    for `duration` seconds or until `trips` requests, whichever is given."""
    if (duration is None) == (trips is None) or rate <= 0:
        raise ValueError("give a positive rate, and a duration or a number of trips")
    t, made = 0.0, 0
    while True:
        t += rng.expovariate(rate)
        if (duration is not None and t >= duration) or (trips is not None and made >= trips):
            return
        made += 1
        yield t
