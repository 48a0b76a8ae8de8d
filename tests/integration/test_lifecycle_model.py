"""The trip lifecycle against a model: whatever riders and drivers do, in whatever order —
request (retrying a request_id or not), accept, move on, cancel, look — the real TaxiService
answers what a few lines of plain Python predict (the trip, or the exact domain error), and
the database holds what the model holds.

Hypothesis drives it on SQLite and PostgreSQL (the `service` fixture's two databases). The
state machine is run from inside a plain test, not as a test class of its own, so that each
database's service can be handed to it (and no hypothesis test is parametrized: pytest-twisted
wraps such a test once per parameter, and the second wrapping runs the first one's fixtures).
The users are signed up once per test; the trips are deleted at the start of each example.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from taxi_core.domain import DomainError, InvalidTransition, TripNotFound, TripTaken
from taxi_core.models import OutboxEntry, Trip, TripEvent, User

RIDERS = ("rosa", "otto")
DRIVERS = ("dan", "dora")
USERS = RIDERS + DRIVERS
STATUSES = ("REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED")
FINAL = {"COMPLETED", "CANCELED"}
# A driver's step into each status, from the status it needs: the lifecycle of docs/contract.md.
STEP_FROM = {"STARTED": "REQUESTED", "IN_PROGRESS": "STARTED", "COMPLETED": "IN_PROGRESS"}
NO_SUCH_NK = "f" * 32
# Mostly the steps a driver can take, sometimes one no driver may.
DRIVER_STATUSES = st.sampled_from([*STEP_FROM, *STEP_FROM, "REQUESTED", "CANCELED"])
# Few request_ids, so that a rider retries one (or another rider reuses it) often.
REQUEST_IDS = st.none() | st.sampled_from(["r1", "r2", "r3"])
ADDRESSES = st.sampled_from(["1 Main St", "2 Elm St", "Station", "Zürich HB"])


@dataclass
class ModelTrip:
    nk: str
    rider: str
    pick_up_address: str
    drop_off_address: str
    created: dt.datetime
    updated: dt.datetime
    status: str = "REQUESTED"
    driver: str | None = None
    seq: int = 1  # the trip's latest event

    def view(self) -> tuple:
        return (self.nk, self.rider, self.driver, self.status, self.pick_up_address, self.drop_off_address,
                self.created.isoformat(), self.updated.isoformat(), self.seq)  # fmt: skip


def seen(trip: dict) -> tuple:
    """The service's trip dict, in ModelTrip.view's shape."""
    driver = trip["driver"]["username"] if trip["driver"] else None
    return (trip["nk"], trip["rider"]["username"], driver, trip["status"], trip["pick_up_address"],
            trip["drop_off_address"], trip["created"], trip["updated"], trip["seq"])  # fmt: skip


def predicted_driver_step(trip: ModelTrip, driver: str, status: str) -> type[DomainError] | None:
    """What trip.update(status) by `driver` does to `trip`: None if it goes through."""
    if status not in STEP_FROM:
        return InvalidTransition  # no driver ever sets REQUESTED or CANCELED
    rightful = trip.driver is None if status == "STARTED" else trip.driver == driver
    if trip.status == STEP_FROM[status] and rightful:
        return None
    if status == "STARTED" and trip.driver not in (None, driver):
        return TripTaken  # another driver accepted it (whatever became of it since)
    if trip.driver != driver and trip.status != "REQUESTED":
        return TripNotFound  # not his trip, and no longer up for grabs: he may not know of it
    return InvalidTransition


def predicted_cancel(trip: ModelTrip, rider: str) -> type[DomainError] | None:
    if trip.rider != rider:
        return TripNotFound
    return None if trip.status in ("REQUESTED", "STARTED") else InvalidTransition


def may_view(trip: ModelTrip, user: str) -> bool:
    return user in (trip.rider, trip.driver) or (user in DRIVERS and trip.status == "REQUESTED")


def lifecycle_machine(service, database, clock, tally: Counter):
    """The state machine class, bound to one database's service; `tally` counts what happened."""

    class Lifecycle(RuleBasedStateMachine):
        nks = Bundle("nks")

        def __init__(self):
            super().__init__()
            with database.unit_of_work(write=True) as session:
                for table in (OutboxEntry, TripEvent, Trip):
                    session.execute(delete(table))
            self.trips: dict[str, ModelTrip] = {}  # by nk, in the order they were made
            self.requests: dict[tuple[str, str], str] = {}  # (rider, request_id) -> nk
            tally["examples"] += 1

        def outcome(self, call, predicted: type[DomainError] | None):
            """Run the call; it must raise exactly the predicted error, or return if None was predicted."""
            tally[predicted.__name__ if predicted else "results"] += 1
            try:
                result = call()
            except DomainError as error:
                assert type(error) is predicted, f"predicted {predicted}, got {error!r}"
                return None
            assert predicted is None, f"predicted {predicted.__name__}, got {result!r}"
            return result

        @rule(target=nks, rider=st.sampled_from(RIDERS), request_id=REQUEST_IDS, pick_up=ADDRESSES,
              drop_off=ADDRESSES, later=st.sampled_from([0, 0, 1]))  # fmt: skip
        def request(self, rider, request_id, pick_up, drop_off, later):
            clock.advance(later)
            outcome = service.request_trip(
                rider=rider, pick_up_address=pick_up, drop_off_address=drop_off, request_id=request_id
            )
            earlier = self.requests.get((rider, request_id))
            assert outcome.created is (earlier is None)
            if earlier is None:
                trip = ModelTrip(outcome.trip["nk"], rider, pick_up, drop_off, clock.now, clock.now)
                self.trips[trip.nk] = trip
                if request_id is not None:
                    self.requests[rider, request_id] = trip.nk
            assert seen(outcome.trip) == self.trips[earlier or outcome.trip["nk"]].view()
            return outcome.trip["nk"]

        @rule(target=nks, rider=st.sampled_from(RIDERS), driver=st.sampled_from(DRIVERS), steps=st.integers(1, 3))
        def a_trip_already_under_way(self, rider, driver, steps):
            """A new trip its driver has taken `steps` steps with, so that later rules meet trips in every state."""
            nk = self.request(rider, None, "1 Main St", "2 Elm St", 0)
            for status in list(STEP_FROM)[:steps]:
                self.step(nk, driver, status, 1)
            return nk

        @rule(nk=nks, driver=st.sampled_from(DRIVERS), status=DRIVER_STATUSES, later=st.sampled_from([0, 1]))
        def driver_step(self, nk, driver, status, later):
            self.step(nk, driver, status, later)

        @rule(nk=nks, driver=st.sampled_from(DRIVERS), later=st.sampled_from([0, 1]))
        def its_driver_moves_it_on(self, nk, driver, later):
            """The step forward by the right driver (any driver, to accept): gets trips to their later states."""
            trip = self.trips[nk]
            forward = {"REQUESTED": "STARTED", "STARTED": "IN_PROGRESS", "IN_PROGRESS": "COMPLETED"}
            self.step(nk, trip.driver or driver, forward.get(trip.status, "STARTED"), later)

        @rule(nk=nks, later=st.sampled_from([0, 1]))
        def another_driver_tries_to_accept(self, nk, later):
            trip = self.trips[nk]
            self.step(nk, next(d for d in DRIVERS if d != trip.driver), "STARTED", later)

        def step(self, nk, driver, status, later):
            clock.advance(later)
            trip = self.trips[nk]
            predicted = predicted_driver_step(trip, driver, status)
            result = self.outcome(lambda: service.update_trip(driver=driver, nk=nk, status=status).trip, predicted)
            if predicted is None:
                trip.status, trip.driver, trip.updated, trip.seq = status, driver, clock.now, trip.seq + 1
                assert seen(result) == trip.view()

        @rule(nk=nks, rider=st.sampled_from(RIDERS), later=st.sampled_from([0, 1]))
        def cancel(self, nk, rider, later):
            self.cancel_as(nk, rider, later)

        @rule(nk=nks, later=st.sampled_from([0, 1]))
        def its_rider_cancels(self, nk, later):
            self.cancel_as(nk, self.trips[nk].rider, later)

        def cancel_as(self, nk, rider, later):
            clock.advance(later)
            trip = self.trips[nk]
            predicted = predicted_cancel(trip, rider)
            result = self.outcome(lambda: service.cancel_trip(rider=rider, nk=nk).trip, predicted)
            if predicted is None:
                trip.status, trip.updated, trip.seq = "CANCELED", clock.now, trip.seq + 1
                assert seen(result) == trip.view()

        @rule(nk=nks, user=st.sampled_from(USERS))
        def get(self, nk, user):
            trip = self.trips[nk]
            result = self.outcome(lambda: service.get_trip(user=user, nk=nk), None if may_view(trip, user) else TripNotFound)
            if result is not None:
                assert seen(result) == trip.view()

        @rule(user=st.sampled_from(USERS), action=st.sampled_from(["get", "cancel", *STATUSES]))
        def no_such_trip_is_found_by_anyone(self, user, action):
            if action == "get":
                self.outcome(lambda: service.get_trip(user=user, nk=NO_SUCH_NK), TripNotFound)
            elif action == "cancel":
                self.outcome(lambda: service.cancel_trip(rider=user, nk=NO_SUCH_NK), TripNotFound)
            else:  # a status no driver may set is refused before the trip is looked up
                predicted = TripNotFound if action in STEP_FROM else InvalidTransition
                self.outcome(lambda: service.update_trip(driver=user, nk=NO_SUCH_NK, status=action), predicted)

        @rule(user=st.sampled_from(USERS), active=st.booleans())
        def list_trips(self, user, active):
            mine = [t for t in self.trips.values() if user in (t.rider, t.driver)]
            mine = [t for t in mine if not (active and t.status in FINAL)]
            assert [seen(t) for t in service.list_trips(user=user, active=active)] == [t.view() for t in reversed(mine)]

        @rule(driver=st.sampled_from(DRIVERS))
        def available(self, driver):
            expected = [t.view() for t in self.trips.values() if t.status == "REQUESTED"]
            assert [seen(t) for t in service.available_trips(user=driver)] == expected

        @invariant()
        def the_database_holds_what_the_model_holds(self):
            rider, driver = aliased(User), aliased(User)
            query = (
                select(Trip.nk, rider.username, driver.username, Trip.status)
                .join(rider, Trip.rider_id == rider.id)
                .outerjoin(driver, Trip.driver_id == driver.id)
                .order_by(Trip.id)
            )
            with database.unit_of_work(write=False) as session:
                stored = [tuple(row) for row in session.execute(query)]
            assert stored == [(t.nk, t.rider, t.driver, t.status) for t in self.trips.values()]
            tally["database checks"] += 1

    return Lifecycle


@pytest.fixture
def model_settings(long_run) -> settings:
    return settings(
        max_examples=300 if long_run else 40,
        stateful_step_count=60 if long_run else 30,
        deadline=None,  # a shared machine's database is slow at times; the steps are not timed
        suppress_health_check=[HealthCheck.too_slow],
    )


def test_the_lifecycle_matches_its_model_whatever_the_users_do(service, database, clock, model_settings, figure):
    for name, role in [*((r, "rider") for r in RIDERS), *((d, "driver") for d in DRIVERS)]:
        service.signup(username=name, password="correct horse battery", role=role)
    tally = Counter()
    run_state_machine_as_test(lifecycle_machine(service, database, clock, tally), settings=model_settings)
    figure(f"up to {model_settings.stateful_step_count} steps an example; as the model predicted: {dict(tally)}")
