"""The outbox rule (taxi_core.events): what a backend publishes, and in what order."""

from __future__ import annotations

import datetime as dt

from taxi_core.events import LEASE_TERM, SWEEP_GRACE, Publication, in_publication_order, lease_until, stuck_before

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def publication(nk: str, seq: int, status: str = "IN_PROGRESS") -> Publication:
    return Publication(event_id=seq * 10 + ord(nk), nk=nk, seq=seq, trip={"nk": nk, "seq": seq, "status": status})


def test_a_trips_events_are_published_oldest_first_whatever_order_they_came_in():
    order = in_publication_order([publication("a", 3), publication("b", 1), publication("a", 1), publication("a", 2)])
    assert [(p.nk, p.seq) for p in order] == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]


def test_no_events_is_nothing_to_publish():
    assert in_publication_order(iter([])) == []


def test_drivers_hear_of_a_trip_coming_up_being_taken_or_canceled_and_of_nothing_else():
    told = {status: publication("a", 1, status).tells_drivers
            for status in ("REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED")}  # fmt: skip
    assert told == {"REQUESTED": True, "STARTED": True, "IN_PROGRESS": False, "COMPLETED": False, "CANCELED": True}


def test_the_sweep_takes_only_rows_older_than_the_grace_a_live_backend_gets():
    assert stuck_before(NOW) == NOW - SWEEP_GRACE
    assert SWEEP_GRACE < LEASE_TERM


def test_a_lease_runs_for_its_term_from_when_it_was_taken():
    assert lease_until(NOW) == NOW + LEASE_TERM
