"""Drivers' positions and the search near a pick-up, on SQLite and PostgreSQL: driver.locate
makes or moves a driver's row, driver.offline takes him out of the search, and the bounding
box query finds exactly the online drivers in the box, as geo.in_box says."""

from __future__ import annotations

import random
import statistics
import time

import pytest
from sqlalchemy import select

from taxi_core import positions
from taxi_core.dispatch import DispatchState, Offer, Policy, search
from taxi_core.dispatching import Dispatching
from taxi_core.geo import KM_PER_DEGREE, Point, bounding_box, great_circle_km, in_box
from taxi_core.models import DriverPosition, User

CITY = Point(52.52, 13.40)
NEAREST_K_DRIVERS = 10_000


@pytest.fixture
def dispatching(database, clock) -> Dispatching:
    return Dispatching(database, clock=clock)


def position_of(database, username: str):
    with database.unit_of_work(write=False) as session:
        row = session.execute(
            select(DriverPosition.lat, DriverPosition.lng, DriverPosition.seen, DriverPosition.online)
            .join(User, User.id == DriverPosition.driver_id)
            .where(User.username == username)
        ).first()
        return None if row is None else tuple(row)


def near(database, box, trip_id=None):
    with database.unit_of_work(write=False) as session:
        return positions.near(session, trip_id, box)


def test_a_drivers_first_position_makes_his_row_and_the_next_one_moves_it(dispatching, database, driver, clock):
    assert position_of(database, driver) is None
    dispatching.locate(driver=driver, lat=52.5, lng=13.4)
    assert position_of(database, driver) == (52.5, 13.4, clock(), True)
    clock.advance(5)
    dispatching.locate(driver=driver, lat=-33.9, lng=151.2)
    assert position_of(database, driver) == (-33.9, 151.2, clock(), True)


def test_a_driver_who_goes_offline_is_not_searched_until_he_sends_a_position_again(dispatching, database, driver):
    box = bounding_box(CITY, 5)
    dispatching.locate(driver=driver, lat=CITY.lat, lng=CITY.lng)
    assert [c.authid for c in near(database, box)] == [driver]
    dispatching.go_offline(driver=driver)
    assert position_of(database, driver)[3] is False
    assert near(database, box) == []
    dispatching.locate(driver=driver, lat=CITY.lat, lng=CITY.lng)
    assert [c.authid for c in near(database, box)] == [driver]


def test_going_offline_before_any_position_changes_nothing(dispatching, database, driver):
    dispatching.go_offline(driver=driver)
    assert position_of(database, driver) is None


def test_the_box_query_finds_exactly_the_online_drivers_in_the_box(dispatching, database, sign_up):
    generator = random.Random(11)
    placed = {}
    for n in range(60):
        name = sign_up(f"driver{n}", "driver")
        placed[name] = Point(CITY.lat + generator.uniform(-0.1, 0.1), CITY.lng + generator.uniform(-0.15, 0.15))
        dispatching.locate(driver=name, lat=placed[name].lat, lng=placed[name].lng)
    for km in (0.5, 2, 5, 20):
        box = bounding_box(CITY, km)
        found = {c.authid: c.position for c in near(database, box)}
        assert found == {name: point for name, point in placed.items() if in_box(box, point)}


def test_the_box_query_finds_drivers_across_the_antimeridian(dispatching, database, sign_up):
    for name, lng in (("east", 179.99), ("west", -179.99), ("far", 170.0)):
        sign_up(name, "driver")
        dispatching.locate(driver=name, lat=0.0, lng=lng)
    assert {c.authid for c in near(database, bounding_box(Point(0.0, 180.0), 5))} == {"east", "west"}


def test_a_candidate_says_whether_he_is_busy_and_whether_the_trip_was_offered_to_him(
    dispatching, database, service, driver, other_driver, trip, request_trip
):
    for name in (driver, other_driver):
        dispatching.locate(driver=name, lat=CITY.lat, lng=CITY.lng)
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    located = request_trip(pick_up_location=CITY)  # offered to the one who is not busy
    found = {c.authid: (c.busy, c.offered) for c in near(database, bounding_box(CITY, 1), located["id"])}
    assert found == {driver: (True, False), other_driver: (False, True)}
    service.update_trip(driver=driver, nk=trip["nk"], status="IN_PROGRESS")
    assert near(database, bounding_box(CITY, 1))[0].busy
    service.update_trip(driver=driver, nk=trip["nk"], status="COMPLETED")
    assert not any(c.busy for c in near(database, bounding_box(CITY, 1)))


def test_nearest_k_among_ten_thousand_drivers_in_a_city(database, database_url, clock, figure):
    """The search a round runs (widening boxes, exact distances), timed: printed, not asserted."""
    generator = random.Random(7)
    half_side = 10 / KM_PER_DEGREE  # a city some 20 km across
    with database.unit_of_work(write=True) as session:
        session.add_all(User(username=f"d{n}", password_hash="x", first_name="", last_name="", role="driver",
                             created=clock()) for n in range(NEAREST_K_DRIVERS))  # fmt: skip
        session.flush()
        ids = session.scalars(select(User.id)).all()
        session.add_all(
            DriverPosition(driver_id=i, lat=CITY.lat + generator.uniform(-half_side, half_side),
                           lng=CITY.lng + generator.uniform(-1.6 * half_side, 1.6 * half_side), seen=clock(), online=True)
            for i in ids
        )  # fmt: skip
    policy = Policy()
    timings = []
    for _ in range(100):
        pick_up = Point(CITY.lat + generator.uniform(-half_side, half_side), CITY.lng + generator.uniform(-half_side, half_side))
        trip = DispatchState(pick_up, policy.expires_at(clock()), None)
        with database.unit_of_work(write=False) as session:
            started = time.perf_counter()
            step = search(policy, trip, lambda box: positions.near(session, None, box), clock())
            timings.append((time.perf_counter() - started) * 1000)
        assert isinstance(step, Offer) and len(step.drivers) == policy.batch
        farthest = great_circle_km(pick_up, step.drivers[-1].position)
        assert farthest == pytest.approx(step.radius_km)
    timings.sort()
    backend = database.engine.dialect.name
    figure(f"nearest-3 among {NEAREST_K_DRIVERS} online drivers on {backend}: median {statistics.median(timings):.2f} ms, "
           f"p90 {timings[89]:.2f} ms, max {timings[-1]:.2f} ms (100 searches)")  # fmt: skip


def test_what_a_position_update_costs(dispatching, database, sign_up, figure):
    """driver.locate's use case, timed (one UPSERT in its own transaction): printed, not asserted."""
    names = [sign_up(f"mover{n}", "driver") for n in range(50)]
    generator = random.Random(3)
    timings = []
    for n in range(1000):
        started = time.perf_counter()
        dispatching.locate(driver=names[n % 50], lat=CITY.lat + generator.uniform(-0.1, 0.1), lng=CITY.lng)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    figure(f"driver.locate's transaction on {database.engine.dialect.name}: median {statistics.median(timings):.3f} ms, "
           f"p99 {timings[989]:.3f} ms (1000 updates of 50 drivers)")  # fmt: skip
