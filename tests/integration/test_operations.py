"""What the health check and the metrics ask of the database (taxi_core/operations.py), on SQLite
and PostgreSQL, with the clock in hand: the ping, and the figures a scrape shows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taxi_core import operations
from taxi_core.db import Database, DatabaseUnreachable
from taxi_core.dispatching import Dispatching
from taxi_core.geo import KM_PER_DEGREE, Point
from taxi_core.models import OutboxEntry
from taxi_core.trip_log import Outbox

PICK_UP = Point(52.52, 13.40)


def test_ping_answers_on_a_migrated_database(database):
    operations.ping(database)


def test_ping_of_a_database_without_taxi_schema_is_database_unreachable(empty_database_url):
    db = Database.from_url(empty_database_url, pool_size=1)
    try:
        with pytest.raises(DatabaseUnreachable) as unreachable:
            operations.ping(db)
    finally:
        db.dispose()
    assert "alembic_version" in unreachable.value.reason


def test_figures_of_an_empty_database_are_zero_for_every_status(database, clock):
    figures = operations.figures(database, clock())
    assert figures.trips == {s: 0 for s in ("REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED", "EXPIRED")}
    assert (figures.offers, figures.outbox, figures.outbox_oldest_seconds) == (0, 0, 0.0)


def test_figures_count_trips_by_status_offers_made_and_the_outbox_backlog_with_its_age(
    database, clock, service, sign_up, rider
):
    dispatching = Dispatching(database, clock=clock)
    for n in range(2):
        driver = sign_up(f"near_{n}", "driver")
        dispatching.locate(driver=driver, lat=PICK_UP.lat + 0.5 / KM_PER_DEGREE, lng=PICK_UP.lng)
    located = service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B", pick_up_location=PICK_UP)
    clock.advance(30)
    plain = service.request_trip(rider=rider, pick_up_address="C", drop_off_address="D")
    service.cancel_trip(rider=rider, nk=plain.trip["nk"])
    clock.advance(12)

    figures = operations.figures(database, clock())

    assert figures.trips["REQUESTED"] == 1 and figures.trips["CANCELED"] == 1
    assert figures.offers == 2  # the located request's first round, to both drivers
    assert figures.outbox == 3  # nothing was published: the request, the other request and its cancel
    assert figures.outbox_oldest_seconds == pytest.approx(42, abs=0.01)
    with database.unit_of_work(write=False) as session:
        assert len(session.scalars(select(OutboxEntry.event_id)).all()) == figures.outbox
    assert located.trip["status"] == "REQUESTED"


def test_forgotten_outbox_rows_leave_the_backlog(database, clock, service, rider):
    service.request_trip(rider=rider, pick_up_address="A", drop_off_address="B")
    with database.unit_of_work(write=False) as session:
        ids = session.scalars(select(OutboxEntry.event_id)).all()
    Outbox(database, clock=clock).forget(ids)
    figures = operations.figures(database, clock())
    assert (figures.outbox, figures.outbox_oldest_seconds) == (0, 0.0)
