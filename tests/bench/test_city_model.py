"""The simulated city's parts that need no network: the square, the drivers' courses and
answers, the requests' arrivals; seeded, so each test sees the same draws every run."""

from __future__ import annotations

import random

import pytest

from taxi_bench.city.model import SPEEDS_KMH, Behaviour, City, Mover, arrivals
from taxi_core.geo import great_circle_km

pytestmark = pytest.mark.bench


def test_the_city_is_a_square_twenty_km_across_around_its_centre():
    city = City()
    west, east = city.point(-10, 0), city.point(10, 0)
    south, north = city.point(0, -10), city.point(0, 10)
    assert great_circle_km(west, east) == pytest.approx(20, rel=1e-3)
    assert great_circle_km(south, north) == pytest.approx(20, rel=1e-3)
    assert great_circle_km(city.point(0, 0), city.centre) == 0


def test_random_places_fall_inside_the_city():
    city, rng = City(), random.Random(1)
    corner_sw, corner_ne = city.point(-10, -10), city.point(10, 10)
    for _ in range(1000):
        place = city.random_point(rng)
        assert corner_sw.lat <= place.lat <= corner_ne.lat and corner_sw.lng <= place.lng <= corner_ne.lng


def test_a_driver_moves_continuously_at_city_speeds_and_stays_in_the_city():
    city = City()
    mover = Mover(city, random.Random(2))
    fastest_km_per_s = SPEEDS_KMH[1] / 3600
    before, moved = mover.position(0.0), 0.0
    for t in range(10, 3 * 3600, 10):  # three hours, over many waypoints
        now = mover.position(float(t))
        step = great_circle_km(before, now)
        assert step <= fastest_km_per_s * 10 * 1.001
        assert great_circle_km(city.centre, now) <= 10 * 2**0.5 + 1e-6
        before, moved = now, moved + step
    assert moved > 3 * SPEEDS_KMH[0] * 0.5  # he does get somewhere: no leg is stuck


def test_a_driver_takes_about_the_share_of_offers_he_is_given_to_take_after_a_bounded_think():
    behaviour, rng = Behaviour(accept_probability=0.7, think_seconds=2.0, think_max_seconds=12.0), random.Random(3)
    answers = [behaviour.answer(rng) for _ in range(4000)]
    thinks = sorted(a for a in answers if a is not None)
    assert len(thinks) / len(answers) == pytest.approx(0.7, abs=0.03)
    assert 0 < thinks[0] and thinks[-1] <= 12.0
    assert thinks[len(thinks) // 2] == pytest.approx(2.0, rel=0.1)  # the median think-time


@pytest.mark.parametrize("p, takes", [(0.0, False), (1.0, True)])
def test_a_driver_who_never_or_always_takes_an_offer(p, takes):
    rng = random.Random(4)
    assert {Behaviour(accept_probability=p).answer(rng) is not None for _ in range(200)} == {takes}


def test_an_impossible_behaviour_is_refused():
    with pytest.raises(ValueError):
        Behaviour(accept_probability=1.5)


def test_requests_arrive_at_the_rate_for_the_duration():
    times = list(arrivals(random.Random(5), 4.0, duration=500.0))
    assert len(times) == pytest.approx(2000, rel=0.06)
    assert times == sorted(times) and 0 < times[0] and times[-1] < 500.0


def test_requests_arrive_until_the_number_of_trips():
    assert len(list(arrivals(random.Random(6), 2.0, trips=7))) == 7


def test_arrivals_need_a_rate_and_one_bound():
    for bad in ({"duration": 1.0, "trips": 1}, {}):
        with pytest.raises(ValueError):
            list(arrivals(random.Random(7), 1.0, **bad))
