"""A rider requests a trip, and a retried request (same request_id) makes no second trip."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from taxi_core.models import Trip

TRIP_KEYS = {"id", "nk", "created", "updated", "pick_up_address", "drop_off_address", "status", "rider", "driver",
             "seq", "pick_up_location", "dispatch"}  # fmt: skip


def count_trips(database) -> int:
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Trip))


def test_a_requested_trip_belongs_to_its_rider_and_waits_for_a_driver(service, rider, password, clock):
    outcome = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St")
    trip = outcome.trip
    assert outcome.created is True
    assert set(trip) == TRIP_KEYS
    assert (trip["status"], trip["driver"]) == ("REQUESTED", None)
    assert (trip["pick_up_location"], trip["dispatch"]) == (None, None)  # without a location: no dispatch
    assert (trip["pick_up_address"], trip["drop_off_address"]) == ("1 Main St", "2 Elm St")
    assert trip["rider"] == service.authenticate(username=rider, password=password)
    assert trip["created"] == trip["updated"] == clock().isoformat()


def test_a_trip_has_a_32_character_lowercase_hex_natural_key(request_trip):
    nks = {request_trip()["nk"] for _ in range(5)}
    assert len(nks) == 5
    assert all(re.fullmatch(r"[0-9a-f]{32}", nk) for nk in nks)


def test_trip_times_are_iso_8601_in_utc(trip, service, rider):
    for shown in (trip, service.get_trip(user=rider, nk=trip["nk"])):
        for time in (shown["created"], shown["updated"]):
            parsed = dt.datetime.fromisoformat(time)
            assert parsed.utcoffset() == dt.timedelta(0)
            assert time.endswith("+00:00")


def test_trip_times_are_utc_even_when_the_database_speaks_another_time_zone(
    database, database_url, trip, service, rider
):
    if make_url(database_url).get_backend_name() == "postgresql":
        with database.engine.connect() as connection:
            name = make_url(database_url).database
            connection.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Kolkata'")
            connection.commit()
        database.engine.dispose()  # new connections take up the new setting
    shown = service.get_trip(user=rider, nk=trip["nk"])
    assert (shown["created"], shown["updated"]) == (trip["created"], trip["updated"])


def test_the_same_request_id_from_the_same_rider_gives_back_the_same_trip(service, rider, database, clock):
    first = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    clock.advance(5)
    retry = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    assert (first.created, retry.created) == (True, False)
    assert retry.trip == first.trip
    assert count_trips(database) == 1


def test_a_retry_gets_the_first_trip_even_with_other_addresses(service, rider, database):
    first = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    retry = service.request_trip(rider=rider, pick_up_address="9 Far Rd", drop_off_address="8 Near Ln", request_id="r1")
    assert retry.trip == first.trip
    assert count_trips(database) == 1


def test_a_retry_after_the_trip_was_accepted_gives_the_trip_as_it_is_now(service, rider, driver):
    first = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    accepted = service.update_trip(driver=driver, nk=first.trip["nk"], status="STARTED").trip
    retry = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    assert (retry.created, retry.trip) == (False, accepted)


def test_different_riders_may_use_the_same_request_id(service, rider, other_rider, database):
    mine = service.request_trip(rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1")
    theirs = service.request_trip(
        rider=other_rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="r1"
    )
    assert mine.created and theirs.created
    assert mine.trip["nk"] != theirs.trip["nk"]
    assert theirs.trip["rider"]["username"] == other_rider
    assert count_trips(database) == 2


def test_requests_with_other_request_ids_or_none_make_new_trips(request_trip, database):
    nks = {request_trip(request_id="r1")["nk"], request_trip(request_id="r2")["nk"], request_trip()["nk"]}
    nks.add(request_trip()["nk"])
    assert len(nks) == 4
    assert count_trips(database) == 4


def test_simultaneous_retries_of_one_request_make_exactly_one_trip(service, rider, database, run_together):
    def request():
        return service.request_trip(
            rider=rider, pick_up_address="1 Main St", drop_off_address="2 Elm St", request_id="flaky-link"
        )

    outcomes = run_together([request] * 20)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert [outcome.created for outcome in outcomes].count(True) == 1
    assert len({outcome.trip["nk"] for outcome in outcomes}) == 1
    assert count_trips(database) == 1
