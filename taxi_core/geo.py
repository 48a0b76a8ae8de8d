"""Distances on the Earth and the nearest-K search; no I/O.

The database finds drivers near a pick-up with a bounding box on its (lat, lng) index (the
same SQL on SQLite and PostgreSQL, no extension needed); the exact order is then a great-circle
distance computed here. The box is widened step by step (widening) until the K nearest are
known: a box of half-side r holds every point within r, but also corners farther out, so
only points within r count towards K, and a nearer point just outside the box is found by
the next, wider one.
"""

from __future__ import annotations

import heapq
import math
from typing import Iterable, NamedTuple, TypeVar

EARTH_RADIUS_KM = 6371.0088  # the mean Earth radius (IUGG)
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180  # along a meridian, anywhere
FIRST_RADIUS_KM = 1.0
# Degrees added to each side of a box (about 0.1 mm): rounding must never leave a point at
# exactly km outside it.
_MARGIN = 1e-9

T = TypeVar("T")


class Point(NamedTuple):
    lat: float
    lng: float


class Box(NamedTuple):
    """Latitudes lat_min..lat_max and longitudes in any of lng_ranges: one range, or two where
    the box crosses the antimeridian (180°)."""

    lat_min: float
    lat_max: float
    lng_ranges: tuple[tuple[float, float], ...]


def great_circle_km(a: Point, b: Point) -> float:
    """The haversine distance, good to well under a metre at a city's scale."""
    lat_a, lat_b = math.radians(a.lat), math.radians(b.lat)
    half_dlat = (lat_b - lat_a) / 2
    half_dlng = math.radians(b.lng - a.lng) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat_a) * math.cos(lat_b) * math.sin(half_dlng) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(center: Point, km: float) -> Box:
    """A box holding every point within `km` of `center` (a hair wider, for rounding)."""
    dlat = km / KM_PER_DEGREE + _MARGIN
    lat_min, lat_max = center.lat - dlat, center.lat + dlat
    if lat_min <= -90 or lat_max >= 90:
        # A pole is within reach, and with it every longitude.
        return Box(max(-90.0, lat_min), min(90.0, lat_max), ((-180.0, 180.0),))
    # The exact half-width in longitude of a spherical cap of radius km (below 1 once the
    # pole is out of reach): wider than km's degrees at the equator, towards the poles.
    dlng = math.degrees(math.asin(math.sin(km / EARTH_RADIUS_KM) / math.cos(math.radians(center.lat)))) + _MARGIN
    west, east = center.lng - dlng, center.lng + dlng
    if west < -180:
        return Box(lat_min, lat_max, ((west + 360, 180.0), (-180.0, east)))
    if east > 180:
        return Box(lat_min, lat_max, ((west, 180.0), (-180.0, east - 360)))
    return Box(lat_min, lat_max, ((west, east),))


def in_box(box: Box, point: Point) -> bool:
    """What the database's box query selects, for tests and memory."""
    return box.lat_min <= point.lat <= box.lat_max and any(lo <= point.lng <= hi for lo, hi in box.lng_ranges)


def widening(max_km: float) -> list[float]:
    """The radii a search tries, nearest first: 1, 2, 4, ... km, and max_km last."""
    radii, km = [], FIRST_RADIUS_KM
    while km < max_km:
        radii.append(km)
        km *= 2
    return [*radii, max_km]


def nearest(center: Point, candidates: Iterable[tuple[Point, T]], k: int, max_km: float) -> list[tuple[float, T]]:
    """The `k` candidates nearest `center` within `max_km`, nearest first, with their distances
    (ties keep the candidates' order)."""
    within = (
        (distance, index, item)
        for index, (point, item) in enumerate(candidates)
        if (distance := great_circle_km(center, point)) <= max_km
    )
    return [(distance, item) for distance, _, item in heapq.nsmallest(k, within)]
