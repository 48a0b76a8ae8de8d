"""The outbox rule (taxi_core.events): what a backend publishes, and in what order."""

from __future__ import annotations

import datetime as dt
import json

from taxi_core.domain import TripStatus
from taxi_core.events import (
    LEASE_TERM,
    SWEEP_GRACE,
    DriverNotice,
    Publication,
    in_publication_order,
    lease_until,
    stuck_before,
    to_every_driver,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def publication(nk: str, seq: int, status: str = "IN_PROGRESS") -> Publication:
    return Publication(event_id=seq * 10 + ord(nk), nk=nk, seq=seq, trip={"nk": nk, "seq": seq, "status": status})


def test_a_trips_events_are_published_oldest_first_whatever_order_they_came_in():
    order = in_publication_order([publication("a", 3), publication("b", 1), publication("a", 1), publication("a", 2)])
    assert [(p.nk, p.seq) for p in order] == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]


def test_no_events_is_nothing_to_publish():
    assert in_publication_order(iter([])) == []


def test_every_driver_hears_of_an_unlocated_trip_coming_up_being_taken_or_canceled_and_of_nothing_else():
    told = {status.value: to_every_driver(status) for status in TripStatus}
    everyone = (DriverNotice(eligible=None, offer=None, expires=None),)
    assert told == {"REQUESTED": everyone, "STARTED": everyone, "IN_PROGRESS": (), "COMPLETED": (), "CANCELED": everyone,
                    "EXPIRED": ()}  # fmt: skip


def test_a_notice_is_stored_as_json_and_read_back_the_same():
    for notice in (DriverNotice(), DriverNotice(("ann", "bo"), "open", "2026-01-01T12:00:15+00:00"),
                   DriverNotice(("ann",), "closed")):  # fmt: skip
        assert DriverNotice.from_json(json.loads(json.dumps(notice.as_json()))) == notice


def test_the_sweep_takes_only_rows_older_than_the_grace_a_live_backend_gets():
    assert stuck_before(NOW) == NOW - SWEEP_GRACE
    assert SWEEP_GRACE < LEASE_TERM


def test_a_lease_runs_for_its_term_from_when_it_was_taken():
    assert lease_until(NOW) == NOW + LEASE_TERM
