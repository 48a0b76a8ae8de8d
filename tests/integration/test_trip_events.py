"""The trip-event log and its outbox, on SQLite and PostgreSQL: each change of a trip is one
event, numbered 1, 2, 3, ... per trip, written in the change's transaction with its outbox
row; a refused step writes neither (the `refused` fixture checks both tables)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taxi_core.domain import InvalidTransition, TripNotFound, TripTaken
from taxi_core.events import LEASE_TERM, SWEEP_GRACE, DriverNotice
from taxi_core.models import OutboxEntry, TripEvent
from taxi_core.trip_log import Outbox


@pytest.fixture
def outbox(database, clock) -> Outbox:
    return Outbox(database, clock=clock)


def outbox_rows(database) -> list[int]:
    with database.unit_of_work(write=False) as session:
        return list(session.scalars(select(OutboxEntry.event_id).order_by(OutboxEntry.event_id)))


def logged(database) -> int:
    with database.unit_of_work(write=False) as session:
        return len(session.scalars(select(TripEvent.id)).all())


def test_a_trip_from_request_to_completion_is_events_1_to_4_told_by_whoever_did_each(
    service, rider, driver, clock
):
    requested = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B", session_id=11)
    nk = requested.trip["nk"]
    steps = [requested]
    for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
        clock.advance(60)
        steps.append(service.update_trip(driver=driver, nk=nk, status=status, session_id=22))
    assert [step.trip["seq"] for step in steps] == [1, 2, 3, 4]
    history = service.trip_history(user=rider, nk=nk)
    assert [(e["seq"], e["status"], e["actor"], e["session"]) for e in history] == [
        (1, "REQUESTED", {"authid": rider, "role": "rider"}, 11),
        (2, "STARTED", {"authid": driver, "role": "driver"}, 22),
        (3, "IN_PROGRESS", {"authid": driver, "role": "driver"}, 22),
        (4, "COMPLETED", {"authid": driver, "role": "driver"}, 22),
    ]
    assert [e["created"] for e in history] == [step.trip["updated"] for step in steps]
    assert service.trip_history(user=driver, nk=nk) == history
    assert service.get_trip(user=rider, nk=nk)["seq"] == 4


def test_each_event_is_published_with_the_trip_as_after_it(service, driver, trip):
    accepted = service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    [event] = accepted.events  # the request's own is its backend's to publish still: not stuck yet
    assert (event.seq, event.trip, event.nk, event.retain) == (2, accepted.trip, trip["nk"], True)
    assert event.notices == (DriverNotice(),)  # to every driver: the trip has no pick-up location


def test_a_cancel_is_an_event_of_the_rider(service, rider, trip):
    canceled = service.cancel_trip(rider=rider, nk=trip["nk"], session_id=5)
    assert [event.seq for event in canceled.events] == [2]
    assert service.trip_history(user=rider, nk=trip["nk"])[-1]["actor"] == {"authid": rider, "role": "rider"}


def test_a_step_publishes_the_trips_stuck_events_first_and_only_those(service, outbox, database, driver, trip, clock):
    clock.advance(SWEEP_GRACE.total_seconds() + 1)  # the request's event was never published
    accepted = service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    stuck, new = accepted.events
    assert (stuck.seq, stuck.trip, stuck.retain) == (1, trip, False)  # the new one is the trip's latest
    assert (new.seq, new.retain) == (2, True)
    outbox.forget([event.event_id for event in accepted.events])
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    moved = service.update_trip(driver=driver, nk=trip["nk"], status="IN_PROGRESS")
    assert [event.seq for event in moved.events] == [3]
    assert outbox_rows(database) == [moved.events[0].event_id]
    # Forgetting a published event removes its outbox row, never the event itself.
    assert logged(database) == 3


def test_another_trips_stuck_events_are_not_a_steps_business(service, driver, trip, request_trip, clock):
    request_trip()
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    accepted = service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    assert {event.nk for event in accepted.events} == {trip["nk"]}


def test_a_retried_request_makes_no_event(service, database, rider):
    first = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B", request_id="r1")
    retry = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B", request_id="r1")
    assert (len(first.events), retry.events) == (1, ())
    assert logged(database) == 1


def test_a_refused_step_writes_no_event(service, trip, driver, other_driver, rider, refused):
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    with refused(TripTaken):
        service.update_trip(driver=other_driver, nk=trip["nk"], status="STARTED")
    with refused(InvalidTransition):
        service.update_trip(driver=driver, nk=trip["nk"], status="COMPLETED")
    service.update_trip(driver=driver, nk=trip["nk"], status="IN_PROGRESS")
    with refused(InvalidTransition):
        service.cancel_trip(rider=rider, nk=trip["nk"])


def test_the_history_is_for_whoever_may_see_the_trip(service, trip, rider, other_rider, driver, other_driver):
    with pytest.raises(TripNotFound):
        service.trip_history(user=other_rider, nk=trip["nk"])
    with pytest.raises(TripNotFound):
        service.trip_history(user=rider, nk="0" * 32)
    # As for trip.get: every driver sees a trip while it is up for grabs, then only its own.
    assert len(service.trip_history(user=other_driver, nk=trip["nk"])) == 1
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    with pytest.raises(TripNotFound):
        service.trip_history(user=other_driver, nk=trip["nk"])


def test_the_sweep_leaves_young_rows_to_their_backend_then_takes_them_oldest_first_per_trip(
    service, outbox, driver, trip, request_trip, clock
):
    other = request_trip()
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED")
    assert outbox.stuck() == []
    clock.advance(SWEEP_GRACE.total_seconds() + 1)
    stuck = outbox.stuck()
    assert [(p.nk, p.seq, p.retain) for p in stuck] == [
        (trip["nk"], 1, False),  # the trip has moved on: a late subscriber must not be handed this
        (trip["nk"], 2, True),
        (other["nk"], 1, True),
    ]
    assert stuck[0].trip == trip
    outbox.forget([p.event_id for p in stuck])
    assert outbox.stuck() == []


def test_one_backend_holds_the_sweeps_lease_until_it_expires(outbox, clock):
    assert outbox.take_lease("a")
    assert not outbox.take_lease("b")
    clock.advance(LEASE_TERM.total_seconds() - 1)
    assert outbox.take_lease("a")  # renewed
    clock.advance(LEASE_TERM.total_seconds() - 1)
    assert not outbox.take_lease("b")
    clock.advance(2)
    assert outbox.take_lease("b")
    assert not outbox.take_lease("a")


def test_of_backends_asking_for_the_lease_at_once_exactly_one_gets_it(outbox, run_together):
    results = run_together([lambda holder=holder: outbox.take_lease(holder) for holder in "abcdefgh"])
    assert results.count(True) == 1 and results.count(False) == 7
