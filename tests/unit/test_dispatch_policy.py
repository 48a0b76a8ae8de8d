"""The offer policy (taxi_core.dispatch) with a fake clock: batches of the nearest available
drivers, widening, the offer window, expiry, and the drivers it leaves out (stale, busy,
offered already, out of reach)."""

from __future__ import annotations

import datetime as dt

import pytest

from taxi_core.dispatch import RETRY, Candidate, DispatchState, Expire, Offer, Policy, Wait, next_step, search
from taxi_core.geo import KM_PER_DEGREE, Point, in_box

from ..conftest import FakeClock

PICK_UP = Point(52.5, 13.4)
POLICY = Policy(batch=3, offer_seconds=15, max_km=10, request_timeout_seconds=120, stale_seconds=30)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def driver(n: int, km_north: float, seen: dt.datetime, *, busy=False, offered=False) -> Candidate:
    """Driver n, `km_north` of the pick-up."""
    position = Point(PICK_UP.lat + km_north / KM_PER_DEGREE, PICK_UP.lng)
    return Candidate(n, f"driver{n}", position, seen, busy=busy, offered=offered)


def request(clock: FakeClock, radius_km: float | None = None) -> DispatchState:
    return DispatchState(PICK_UP, POLICY.expires_at(clock()), radius_km)


def names(step: Offer) -> list[str]:
    return [c.authid for c in step.drivers]


def test_a_request_is_offered_to_the_batch_nearest_drivers_nearest_first(clock):
    drivers = [driver(n, km, clock()) for n, km in enumerate([5, 1, 9, 3, 2])]
    step = next_step(POLICY, request(clock), drivers, clock())
    assert isinstance(step, Offer)
    assert names(step) == ["driver1", "driver4", "driver3"]
    assert step.radius_km == pytest.approx(3, abs=1e-6)
    assert step.window_until == clock() + dt.timedelta(seconds=15)


def test_the_next_round_goes_to_the_next_batch_further_out_and_the_radius_only_grows(clock):
    drivers = [driver(n, km, clock(), offered=n < 3) for n, km in enumerate([1, 2, 3, 4, 6, 8, 9])]
    clock.advance(15)
    step = next_step(POLICY, request(clock, radius_km=3), drivers, clock())
    assert names(step) == ["driver3", "driver4", "driver5"]
    assert step.radius_km == pytest.approx(8, abs=1e-6)
    # A nearer driver who came online since is offered first; the radius stays the farthest so far.
    late = next_step(POLICY, request(clock, radius_km=8), [driver(9, 0.5, clock())], clock())
    assert names(late) == ["driver9"] and late.radius_km == 8


def test_a_last_batch_may_be_smaller_than_the_batch_size(clock):
    step = next_step(POLICY, request(clock), [driver(1, 2, clock())], clock())
    assert names(step) == ["driver1"]


def test_drivers_out_of_reach_are_never_offered_and_the_request_waits_for_drivers(clock):
    step = next_step(POLICY, request(clock), [driver(1, 10.5, clock())], clock())
    assert step == Wait(clock() + RETRY)
    assert next_step(POLICY, request(clock), [], clock()) == Wait(clock() + RETRY)


def test_a_driver_not_heard_from_within_the_stale_time_gets_no_offer(clock):
    seen = clock()
    clock.advance(30)
    assert names(next_step(POLICY, request(clock), [driver(1, 1, seen)], clock())) == ["driver1"]  # just in time
    clock.advance(0.001)
    assert isinstance(next_step(POLICY, request(clock), [driver(1, 1, seen)], clock()), Wait)


def test_a_busy_driver_gets_no_offer_however_near(clock):
    drivers = [driver(1, 0.1, clock(), busy=True), driver(2, 5, clock())]
    assert names(next_step(POLICY, request(clock), drivers, clock())) == ["driver2"]


def test_a_driver_is_offered_a_trip_once(clock):
    drivers = [driver(1, 0.1, clock(), offered=True)]
    assert isinstance(next_step(POLICY, request(clock), drivers, clock()), Wait)


def test_the_request_expires_at_its_timeout_and_not_a_moment_before(clock):
    trip = request(clock)
    clock.advance(119.999)
    assert isinstance(next_step(POLICY, trip, [driver(1, 1, clock())], clock()), Offer)
    clock.advance(0.001)
    assert next_step(POLICY, trip, [driver(1, 1, clock())], clock()) == Expire()


def test_no_window_and_no_wait_outlasts_the_request(clock):
    trip = request(clock)
    clock.advance(110)
    offer = next_step(POLICY, trip, [driver(1, 1, clock())], clock())
    assert offer.window_until == trip.expires_at
    clock.advance(9)
    assert next_step(POLICY, trip, [], clock()) == Wait(trip.expires_at)


class Database:
    """The drivers the database holds, answering the box query as the SQL does."""

    def __init__(self, drivers):
        self.drivers = drivers
        self.boxes = []

    def near(self, box):
        self.boxes.append(box)
        return [d for d in self.drivers if in_box(box, d.position)]


def test_the_search_widens_the_box_until_it_holds_a_whole_batch_within_its_radius(clock):
    database = Database([driver(n, km, clock()) for n, km in enumerate([0.5, 1.5, 3.5, 7])])
    step = search(POLICY, request(clock), database.near, clock())
    assert names(step) == ["driver0", "driver1", "driver2"]
    assert len(database.boxes) == 3  # 1 km, 2 km, 4 km


def test_a_point_in_a_boxs_corner_does_not_beat_a_nearer_one_outside_the_box(clock):
    # 1.3 km north-east, in the corner of the 1 km box; 1.1 km south lies outside it.
    corner = Candidate(1, "corner", Point(PICK_UP.lat + 0.92 / KM_PER_DEGREE, PICK_UP.lng + 0.92 / 68), clock(), False, False)
    database = Database([corner, driver(2, -1.1, clock()), driver(3, 0.2, clock())])
    step = search(Policy(batch=2, max_km=10), request(clock), database.near, clock())
    assert names(step) == ["driver3", "driver2"]


def test_the_search_stops_at_the_maximum_with_what_it_found(clock):
    database = Database([driver(1, 9.5, clock()), driver(2, 12, clock())])
    step = search(POLICY, request(clock), database.near, clock())
    assert names(step) == ["driver1"]
    assert len(database.boxes) == 5  # 1, 2, 4, 8, 10 km
    assert isinstance(search(POLICY, request(clock), Database([]).near, clock()), Wait)


def test_an_expired_request_does_not_search_at_all(clock):
    trip = request(clock)
    clock.advance(120)
    database = Database([driver(1, 1, clock())])
    assert search(POLICY, trip, database.near, clock()) == Expire()
    assert database.boxes == []
