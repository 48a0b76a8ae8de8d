"""The trip lifecycle as the domain rules state it, without a database."""

from __future__ import annotations

import pytest

from taxi_core.domain import (
    CANCELABLE_STATUSES,
    DRIVER_STEPS,
    FINAL_STATUSES,
    Driver,
    InvalidTransition,
    Role,
    TripNotFound,
    TripStatus,
    TripTaken,
    driver_step,
    explain_refused_cancel,
    may_view,
    open_to,
)

CALLER, OTHER_DRIVER, RIDER = 1, 2, 3
DRIVERS = {"none": None, "caller": CALLER, "other": OTHER_DRIVER}
OUTCOMES = {"ok": "ok", "invalid": InvalidTransition, "taken": TripTaken, "hidden": TripNotFound}

# What a driver (CALLER) gets for trip.update(status=<column>) on a trip in <status> whose
# driver is <driver>. "hidden" is TripNotFound: the caller may not see the trip.
# Rows marked * cannot occur (a REQUESTED trip has no driver, and only a cancel takes a trip
# past REQUESTED without one), but the rules still refuse them safely.
# An EXPIRED trip never had a driver: only the service expires a request nobody accepted.
LIFECYCLE = """
  status        driver   REQUESTED  STARTED  IN_PROGRESS  COMPLETED  CANCELED  EXPIRED
  REQUESTED     none     invalid    ok       invalid      invalid    invalid    invalid
* REQUESTED     caller   invalid    invalid  invalid      invalid    invalid    invalid
* REQUESTED     other    invalid    taken    invalid      invalid    invalid    invalid
* STARTED       none     invalid    hidden   hidden       hidden     invalid    invalid
  STARTED       caller   invalid    invalid  ok           invalid    invalid    invalid
  STARTED       other    invalid    taken    hidden       hidden     invalid    invalid
* IN_PROGRESS   none     invalid    hidden   hidden       hidden     invalid    invalid
  IN_PROGRESS   caller   invalid    invalid  invalid      ok         invalid    invalid
  IN_PROGRESS   other    invalid    taken    hidden       hidden     invalid    invalid
* COMPLETED     none     invalid    hidden   hidden       hidden     invalid    invalid
  COMPLETED     caller   invalid    invalid  invalid      invalid    invalid    invalid
  COMPLETED     other    invalid    taken    hidden       hidden     invalid    invalid
  CANCELED      none     invalid    hidden   hidden       hidden     invalid    invalid
  CANCELED      caller   invalid    invalid  invalid      invalid    invalid    invalid
  CANCELED      other    invalid    taken    hidden       hidden     invalid    invalid
  EXPIRED       none     invalid    hidden   hidden       hidden     invalid    invalid
* EXPIRED       caller   invalid    invalid  invalid      invalid    invalid    invalid
* EXPIRED       other    invalid    taken    hidden       hidden     invalid    invalid
"""


def _lifecycle_cases():
    header, *rows = LIFECYCLE.strip().splitlines()
    targets = header.split()[2:]
    for row in rows:
        status, driver, *outcomes = row.lstrip("* ").split()
        for target, outcome in zip(targets, outcomes, strict=True):
            case = (TripStatus(status), DRIVERS[driver], TripStatus(target), OUTCOMES[outcome])
            yield pytest.param(*case, id=f"{status}-{driver}-to-{target}")


def answer_to_driver_step(status: TripStatus, driver_id: int | None, target: TripStatus):
    """What the domain's rule answers CALLER: "ok", or the class of the refusal."""
    try:
        step = driver_step(target)
    except InvalidTransition:
        return InvalidTransition
    trip = dict(status=status, driver_id=driver_id, caller_id=CALLER)
    return "ok" if step.applies_to(**trip) else type(step.refusal(**trip))


LIFECYCLE_CASES = list(_lifecycle_cases())


def test_the_lifecycle_table_covers_every_status_target_and_driver():
    cases = {case.id for case in LIFECYCLE_CASES}
    assert len(cases) == len(TripStatus) * len(TripStatus) * len(DRIVERS)


@pytest.mark.parametrize(("status", "driver_id", "target", "expected"), LIFECYCLE_CASES)
def test_a_driver_step_is_allowed_or_refused_as_the_lifecycle_table_says(status, driver_id, target, expected):
    assert answer_to_driver_step(status, driver_id, target) == expected


def test_a_driver_moves_a_trip_one_step_forward_at_a_time():
    order = list(TripStatus)
    for target, step in DRIVER_STEPS.items():
        assert step.target is target
        assert order.index(step.source) == order.index(target) - 1


def test_only_the_accept_takes_a_trip_that_nobody_drives():
    accepts = [step for step in DRIVER_STEPS.values() if step.driver is Driver.NOBODY]
    assert [(step.source, step.target) for step in accepts] == [(TripStatus.REQUESTED, TripStatus.STARTED)]
    assert all(step.is_accept == (step in accepts) for step in DRIVER_STEPS.values())


@pytest.mark.parametrize("target", [TripStatus.REQUESTED, TripStatus.CANCELED])
def test_no_driver_may_set_a_trip_back_to_requested_or_cancel_it(target):
    with pytest.raises(InvalidTransition):
        driver_step(target)


def test_a_rider_may_cancel_only_before_the_ride_begins():
    assert CANCELABLE_STATUSES == {TripStatus.REQUESTED, TripStatus.STARTED}


def test_completed_canceled_and_expired_are_final():
    assert FINAL_STATUSES == {TripStatus.COMPLETED, TripStatus.CANCELED, TripStatus.EXPIRED}
    assert not FINAL_STATUSES & {step.source for step in DRIVER_STEPS.values()}
    assert not FINAL_STATUSES & CANCELABLE_STATUSES


@pytest.mark.parametrize("status", [s for s in TripStatus if s not in CANCELABLE_STATUSES], ids=str)
def test_a_refused_cancel_is_an_invalid_transition(status):
    error = explain_refused_cancel(status=status)
    assert isinstance(error, InvalidTransition)
    assert status.value in str(error)


# Who looks at a trip requested by RIDER (and, once accepted, driven by CALLER), and in
# which statuses they see it.
VIEWERS = {
    "its-rider": (RIDER, Role.RIDER, set(TripStatus)),
    "its-driver": (CALLER, Role.DRIVER, set(TripStatus) - {TripStatus.REQUESTED}),
    "another-driver": (OTHER_DRIVER, Role.DRIVER, {TripStatus.REQUESTED}),
    "another-rider": (99, Role.RIDER, set()),
}


def _viewing_cases():
    for viewer, (viewer_id, role, sees_in) in VIEWERS.items():
        for status in TripStatus:
            if viewer == "its-driver" and status is TripStatus.REQUESTED:
                continue  # a REQUESTED trip has no driver yet
            yield pytest.param(viewer_id, role, status, status in sees_in, id=f"{viewer}-{status.value}")


@pytest.mark.parametrize(("viewer_id", "role", "status", "expected"), list(_viewing_cases()))
def test_a_trip_is_seen_by_its_rider_its_driver_and_any_driver_while_requested(viewer_id, role, status, expected):
    driver_id = None if status is TripStatus.REQUESTED else CALLER
    seen = may_view(status=status, rider_id=RIDER, driver_id=driver_id, viewer_id=viewer_id, viewer_role=role)
    assert seen is expected


def test_a_driver_sees_a_canceled_trip_only_if_he_had_accepted_it():
    canceled = dict(status=TripStatus.CANCELED, rider_id=RIDER, viewer_role=Role.DRIVER)
    assert may_view(**canceled, driver_id=CALLER, viewer_id=CALLER)
    assert not may_view(**canceled, driver_id=None, viewer_id=CALLER)


def test_a_trip_without_a_location_is_open_to_every_driver_a_located_one_to_those_offered_it():
    assert open_to(located=False, offered=False) and open_to(located=True, offered=True)
    assert not open_to(located=True, offered=False)


def test_a_driver_sees_a_requested_trip_only_while_it_is_open_to_him():
    requested = dict(status=TripStatus.REQUESTED, rider_id=RIDER, driver_id=None, viewer_role=Role.DRIVER)
    assert may_view(**requested, viewer_id=CALLER, open_to_viewer=True)
    assert not may_view(**requested, viewer_id=CALLER, open_to_viewer=False)
    # Its rider always sees it.
    assert may_view(**{**requested, "viewer_role": Role.RIDER}, viewer_id=RIDER, open_to_viewer=False)


@pytest.mark.parametrize("driver_id", [None, OTHER_DRIVER])
@pytest.mark.parametrize("target", [TripStatus.STARTED, TripStatus.IN_PROGRESS])
def test_a_located_trip_not_offered_to_the_caller_is_not_found_whether_taken_or_not(driver_id, target):
    status = TripStatus.REQUESTED if driver_id is None else TripStatus.STARTED
    refusal = driver_step(target).refusal(status=status, driver_id=driver_id, caller_id=CALLER, open_to_caller=False)
    assert isinstance(refusal, TripNotFound)


def test_a_located_trip_offered_to_the_caller_and_taken_by_another_is_taken():
    refusal = driver_step(TripStatus.STARTED).refusal(
        status=TripStatus.STARTED, driver_id=OTHER_DRIVER, caller_id=CALLER, open_to_caller=True
    )
    assert isinstance(refusal, TripTaken)
