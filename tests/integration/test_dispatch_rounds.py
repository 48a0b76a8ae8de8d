"""Dispatch on SQLite and PostgreSQL, with the clock in hand: a located request's first round
in its own transaction, the next batch once a window ends, expiry, the drivers left out, the
accept rule, and the compare-and-set that lets only one of two dispatchers apply a round."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from taxi_core import dispatching as dispatching_module
from taxi_core.dispatch import RETRY
from taxi_core.dispatching import Dispatching
from taxi_core.domain import InvalidTransition, TripNotFound, TripTaken
from taxi_core.events import DriverNotice
from taxi_core.geo import KM_PER_DEGREE, Point
from taxi_core.models import Trip, TripOffer
from taxi_core.trip_log import Outbox

PICK_UP = Point(52.52, 13.40)
WINDOW = 15  # the default policy's offer window, and 120 s to expiry
OPEN, CLOSED = "open", "closed"


@pytest.fixture
def dispatching(database, clock) -> Dispatching:
    return Dispatching(database, clock=clock)


@pytest.fixture
def fleet(sign_up, dispatching):
    """Drivers placed `km` north of the pick-up, nearest first: fleet(0.5, 1, ...) -> their names."""

    def fleet(*kms: float) -> list[str]:
        names = []
        for km in kms:
            name = sign_up(f"driver_{len(names)}_{km}", "driver")
            dispatching.locate(driver=name, lat=PICK_UP.lat + km / KM_PER_DEGREE, lng=PICK_UP.lng)
            names.append(name)
        return names

    return fleet


@pytest.fixture
def located(service, rider):
    def located(**arguments):
        return service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B",
                                    pick_up_location=PICK_UP, **arguments)  # fmt: skip

    return located


def run_due(dispatching) -> list:
    """One dispatcher tick: every due trip's round; the events it made (not the older ones it
    publishes first: nothing here publishes, so each trip's events stay stuck in the outbox)."""
    return [events[-1] for trip_id in dispatching.due() if (events := dispatching.dispatch(trip_id))]


def offer_rows(database, trip_id: int) -> list[tuple[int, int]]:
    with database.unit_of_work(write=False) as session:
        query = select(TripOffer.round, TripOffer.driver_id).where(TripOffer.trip_id == trip_id).order_by(TripOffer.round)
        return [tuple(row) for row in session.execute(query)]


def after(clock, seconds: float) -> str:
    return (clock() + dt.timedelta(seconds=seconds)).isoformat()


def test_a_located_request_is_offered_to_the_three_nearest_in_its_own_event(located, fleet, clock):
    drivers = fleet(0.5, 1, 2, 3, 4)
    request = located()
    [event] = request.events
    assert event.seq == 1 and request.trip["pick_up_location"] == {"lat": PICK_UP.lat, "lng": PICK_UP.lng}
    assert event.notices == (DriverNotice(tuple(drivers[:3]), OPEN, after(clock, WINDOW)),)
    assert request.trip["dispatch"] == {"round": 1, "offered": 3, "radius_km": 2.0, "state": "offering",
                                        "expires": after(clock, 120)}  # fmt: skip


def test_a_located_request_nobody_is_in_reach_of_searches_and_is_offered_once_someone_comes(
    located, fleet, dispatching, clock
):
    fleet(11)  # beyond the 10 km
    request = located()
    assert request.trip["dispatch"]["state"] == "searching" and request.events[0].notices == ()
    assert run_due(dispatching) == []  # not due yet
    clock.advance(RETRY.total_seconds())
    assert run_due(dispatching) == []  # due, but a wait while searching is no event
    [newcomer] = fleet(3)
    clock.advance(RETRY.total_seconds())
    [event] = run_due(dispatching)
    assert (event.seq, event.trip["dispatch"]["state"], event.notices[0].eligible) == (2, "offering", (newcomer,))
    assert event.trip["seq"] == 2 and event.trip["updated"] == clock().isoformat()


def test_when_the_window_ends_the_next_batch_further_out_gets_it_and_the_first_is_passed_over(
    located, fleet, dispatching, clock, service, database
):
    drivers = fleet(0.5, 1, 2, 3, 5, 8, 12)
    request = located()
    clock.advance(WINDOW - 1)
    assert run_due(dispatching) == []  # the window is still open
    clock.advance(1)
    [event] = run_due(dispatching)
    assert [(n.eligible, n.offer) for n in event.notices] == [(tuple(drivers[3:6]), OPEN), (tuple(drivers[:3]), CLOSED)]
    assert event.trip["dispatch"] | {"expires": None} == {"round": 2, "offered": 6, "radius_km": 8.0,
                                                          "state": "offering", "expires": None}  # fmt: skip
    assert [r for r, _ in offer_rows(database, request.trip["id"])] == [1, 1, 1, 2, 2, 2]
    clock.advance(WINDOW)
    [event] = run_due(dispatching)  # nobody new within 10 km: searching, and the last batch is passed over
    assert event.trip["dispatch"]["state"] == "searching"
    assert [(n.eligible, n.offer) for n in event.notices] == [(tuple(drivers[3:6]), CLOSED)]


def test_a_request_nobody_takes_expires_and_every_driver_offered_it_is_told(located, fleet, dispatching, clock, service, rider):
    drivers = fleet(1, 2, 3, 4)
    expires = after(clock, 120)
    request = located()
    events = []
    for _ in range(130):
        clock.advance(1)
        events.extend(run_due(dispatching))
        if events and events[-1].trip["status"] == "EXPIRED":
            break
    # Round 2 at 15 s, "searching" at 30 s (nobody new), then quiet waits until the expiry.
    assert [e.trip["dispatch"]["state"] for e in events] == ["offering", "searching", "expired"]
    assert clock().isoformat() == expires  # exactly at its timeout
    expired = events[-1]
    assert expired.notices == (DriverNotice(tuple(drivers), CLOSED),)
    assert service.trip_history(user=rider, nk=request.trip["nk"])[-1]["actor"] == {"authid": None, "role": "service"}
    with pytest.raises(InvalidTransition):
        service.cancel_trip(rider=rider, nk=request.trip["nk"])
    clock.advance(60)
    assert run_due(dispatching) == []


def test_stale_busy_and_offline_drivers_get_no_offers(located, fleet, dispatching, clock, service, request_trip):
    stale, busy, offline, fresh = fleet(0.1, 0.2, 0.3, 5)
    clock.advance(31)
    for name in (busy, offline, fresh):
        dispatching.locate(driver=name, lat=PICK_UP.lat + 0.2 / KM_PER_DEGREE, lng=PICK_UP.lng)
    service.update_trip(driver=busy, nk=request_trip()["nk"], status="STARTED")
    dispatching.go_offline(driver=offline)
    assert located().events[0].notices[0].eligible == (fresh,)


def test_only_a_driver_offered_a_located_trip_may_see_or_accept_it_and_from_any_round(
    located, fleet, dispatching, clock, service, rows
):
    drivers = fleet(1, 2, 3, 4)
    far = fleet(20)[0]
    nk = located().trip["nk"]
    assert [t["nk"] for t in service.available_trips(user=drivers[0])] == [nk]
    assert service.get_trip(user=drivers[0], nk=nk)["nk"] == nk
    assert service.available_trips(user=drivers[3]) == []
    before = rows()
    for stranger in (drivers[3], far):
        for status in ("STARTED", "IN_PROGRESS"):
            with pytest.raises(TripNotFound):
                service.update_trip(driver=stranger, nk=nk, status=status)
        with pytest.raises(TripNotFound):
            service.get_trip(user=stranger, nk=nk)
    assert rows() == before
    clock.advance(WINDOW)
    run_due(dispatching)  # round 2 goes to drivers[3]; the first batch may still take it
    accepted = service.update_trip(driver=drivers[0], nk=nk, status="STARTED")
    assert accepted.events[-1].notices == (DriverNotice(tuple(drivers), CLOSED),)
    before = rows()
    with pytest.raises(TripTaken):
        service.update_trip(driver=drivers[3], nk=nk, status="STARTED")
    with pytest.raises(TripNotFound):  # taken or not, a trip never offered to him is none of his business
        service.update_trip(driver=far, nk=nk, status="STARTED")
    assert rows() == before
    assert run_due(dispatching) == []


def test_a_rider_who_cancels_a_located_request_closes_its_offers_and_its_dispatch(located, fleet, dispatching, service, rider, clock):
    drivers = fleet(1, 2)
    nk = located().trip["nk"]
    canceled = service.cancel_trip(rider=rider, nk=nk)
    assert canceled.events[-1].notices == (DriverNotice(tuple(drivers), CLOSED),)
    assert canceled.trip["dispatch"]["state"] == "done"
    clock.advance(WINDOW)
    assert run_due(dispatching) == []


def test_a_trip_without_a_location_goes_to_every_driver_as_before(service, rider, driver, fleet):
    fleet(1)
    request = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B")
    assert request.events[0].notices == (DriverNotice(),)
    assert request.trip["dispatch"] is None
    accepted = service.update_trip(driver=driver, nk=request.trip["nk"], status="STARTED")
    assert accepted.events[-1].notices == (DriverNotice(),)
    moved = service.update_trip(driver=driver, nk=request.trip["nk"], status="IN_PROGRESS")
    assert moved.events[-1].notices == ()


def test_the_sweep_republishes_a_stuck_rounds_notices_as_they_were(located, fleet, database, clock):
    fleet(1, 2)
    request = located()
    clock.advance(10)
    [stuck] = Outbox(database, clock=clock).stuck()
    assert stuck.notices == request.events[0].notices and stuck.notices[0].offer == OPEN


def test_of_two_dispatchers_at_once_only_one_applies_the_round(located, fleet, database, clock, monkeypatch, run_together):
    fleet(1, 2, 3, 4, 5, 6, 7)
    trip_id = located().trip["id"]
    clock.advance(WINDOW)
    first, second = Dispatching(database, clock=clock), Dispatching(database, clock=clock)
    # The first dispatcher stops once it has read the trip, in its search, until the second
    # is done (or 2 s have passed): on PostgreSQL the second applies its round meanwhile and
    # the first's compare-and-set finds the trip moved on; on SQLite the second waits for the
    # first's write lock and then finds nothing due.
    first_searching, second_done, searched = threading.Event(), threading.Event(), dispatching_module.positions.near
    in_first = threading.local()

    def near(session, trip, box):
        if getattr(in_first, "yes", False):
            first_searching.set()
            second_done.wait(timeout=2)
        return searched(session, trip, box)

    def dispatch_first():
        in_first.yes = True
        return first.dispatch(trip_id)

    def dispatch_second():
        first_searching.wait(timeout=10)
        try:
            return second.dispatch(trip_id)
        finally:
            second_done.set()

    monkeypatch.setattr(dispatching_module.positions, "near", near)
    first_events, second_events = run_together([dispatch_first, dispatch_second])
    winner = second_events if database.engine.dialect.name == "postgresql" else first_events
    assert winner and not (first_events and second_events)
    assert winner[-1].seq == 2
    assert [r for r, _ in offer_rows(database, trip_id)] == [1, 1, 1, 2, 2, 2]
    with database.unit_of_work(write=False) as session:
        assert session.scalar(select(Trip.seq).where(Trip.id == trip_id)) == 2


def test_of_the_offered_drivers_tapping_accept_at_once_exactly_one_wins(located, fleet, service, run_together):
    drivers = fleet(1, 2, 3)
    nk = located().trip["nk"]
    results = run_together([lambda d=d: service.update_trip(driver=d, nk=nk, status="STARTED") for d in drivers])
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and all(isinstance(r, TripTaken) for r in results if r not in winners)
    assert service.get_trip(user=winners[0].trip["driver"]["username"], nk=nk)["seq"] == 2
