"""Distances and the nearest-K search (taxi_core.geo): the box the database searches never
leaves out a point within its radius, and the nearest come out nearest first."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from taxi_core.geo import Point, bounding_box, great_circle_km, in_box, nearest, widening

LATITUDES = st.floats(min_value=-90, max_value=90, allow_nan=False)
LONGITUDES = st.floats(min_value=-180, max_value=180, allow_nan=False)
POINTS = st.builds(Point, LATITUDES, LONGITUDES)
RADII = st.floats(min_value=0, max_value=500, allow_nan=False)

BERLIN = Point(52.5200, 13.4050)
PARIS = Point(48.8566, 2.3522)


def test_the_distance_from_berlin_to_paris_is_about_878_km():
    assert great_circle_km(BERLIN, PARIS) == pytest.approx(877.5, abs=1)


def test_a_degree_of_latitude_is_about_111_km_anywhere():
    assert great_circle_km(Point(0, 0), Point(1, 0)) == pytest.approx(111.195, abs=0.001)
    assert great_circle_km(Point(60, 10), Point(61, 10)) == pytest.approx(111.195, abs=0.001)


def test_a_degree_of_longitude_shrinks_towards_the_poles():
    assert great_circle_km(Point(60, 0), Point(60, 1)) == pytest.approx(111.195 / 2, abs=0.05)


@given(POINTS, POINTS)
def test_the_distance_is_symmetric_and_never_more_than_half_the_earth_around(a, b):
    assert great_circle_km(a, b) == pytest.approx(great_circle_km(b, a), abs=1e-6)
    assert 0 <= great_circle_km(a, b) <= math.pi * 6371.0088 + 1e-6


@given(POINTS, RADII, st.floats(0, 1), st.floats(0, 2 * math.pi))
@example(Point(0, 179.99), 5, 1, math.pi / 2)  # across the antimeridian
@example(Point(89.99, 0), 5, 1, 0)  # across the pole
def test_every_point_within_the_radius_is_in_the_box(center, km, fraction, bearing):
    point = _destination(center, km * fraction, bearing)
    assume(great_circle_km(center, point) <= km)
    assert in_box(bounding_box(center, km), point)


@given(POINTS, st.floats(min_value=0.1, max_value=50))
def test_the_box_is_not_much_wider_than_needed_away_from_the_poles(center, km):
    assume(abs(center.lat) < 60)
    box = bounding_box(center, km)
    assert box.lat_max - box.lat_min <= 2 * km / 111.19 + 1e-6
    assert sum(hi - lo for lo, hi in box.lng_ranges) <= 2 * km / (111.19 * math.cos(math.radians(75))) + 1e-6


def test_a_box_over_the_antimeridian_is_two_ranges_of_longitude():
    box = bounding_box(Point(0, 179.99), 5)
    assert len(box.lng_ranges) == 2
    assert in_box(box, Point(0, -179.99)) and in_box(box, Point(0, 179.98))
    assert not in_box(box, Point(0, 0))


def test_the_search_widens_by_doubling_up_to_the_maximum():
    assert widening(10) == [1, 2, 4, 8, 10]
    assert widening(8) == [1, 2, 4, 8]
    assert widening(0.5) == [0.5]


def test_nearest_orders_by_distance_and_keeps_k_within_the_maximum():
    center = Point(52.0, 13.0)
    candidates = [(Point(52.0, 13.0 + dlng), name) for name, dlng in (("far", 0.1), ("near", 0.01), ("mid", 0.05))]
    found = nearest(center, candidates, k=2, max_km=100)
    assert [name for _, name in found] == ["near", "mid"]
    assert found[0][0] == pytest.approx(0.6847, abs=0.001)
    assert [name for _, name in nearest(center, candidates, k=5, max_km=4)] == ["near", "mid"]
    assert nearest(center, [], k=3, max_km=10) == []


@given(POINTS, st.lists(POINTS, max_size=30), st.integers(1, 5), RADII)
def test_nearest_is_the_k_smallest_distances_within_the_maximum(center, points, k, max_km):
    found = nearest(center, [(p, i) for i, p in enumerate(points)], k, max_km)
    distances = sorted(d for d in (great_circle_km(center, p) for p in points) if d <= max_km)
    assert [d for d, _ in found] == distances[:k]


def _destination(start: Point, km: float, bearing: float) -> Point:
    """The point `km` from `start` in direction `bearing` (radians from north), on the sphere."""
    r = km / 6371.0088
    lat1, lng1 = math.radians(start.lat), math.radians(start.lng)
    lat2 = math.asin(math.sin(lat1) * math.cos(r) + math.cos(lat1) * math.sin(r) * math.cos(bearing))
    lng2 = lng1 + math.atan2(math.sin(bearing) * math.sin(r) * math.cos(lat1), math.cos(r) - math.sin(lat1) * math.sin(lat2))
    lng = (math.degrees(lng2) + 540) % 360 - 180
    return Point(max(-90.0, min(90.0, math.degrees(lat2))), lng)
