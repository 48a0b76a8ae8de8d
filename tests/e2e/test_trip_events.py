"""The trip-event log over the wire: trip.history, the seq of every event and answer, and the
outbox's promise (at least once, in order per trip): an event that committed but was never
published reaches its subscribers all the same, and one that comes twice changes nothing for
the web app, whose own code (crossbar_config/web/js/trips.js, run by node) is the judge."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import argon2
import pytest
from sqlalchemy import select
from twisted.internet import threads

from taxi_core.db import Database
from taxi_core.events import SWEEP_GRACE
from taxi_core.models import OutboxEntry, Trip, TripEvent
from taxi_core.services import TaxiService
from taxi_core.views import trip_view

from ..support import trial
from ..support.wamp import error_of, sleep

pytestmark = pytest.mark.e2e

TRIPS_JS = Path(__file__).parents[2] / "crossbar_config" / "web" / "js" / "trips.js"
# The sweep publishes a row once it is older than the grace, within a sweep interval or two.
SWEPT_WITHIN = SWEEP_GRACE.total_seconds() + 15
# The web app's MyTrips, as the browser runs it, fed the events a subscriber received: which
# of them it took in (their seqs), and which it dropped.
WEB_APP_RULE = """
globalThis.location = { protocol: "http:", host: "127.0.0.1" };
const { MyTrips } = await import(process.argv[1]);
const taken = [];
const trips = new MyTrips((trip) => taken.push(trip.seq));
for (const event of JSON.parse(process.argv[2])) trips.apply(event);
console.log(JSON.stringify(taken));
"""


def taken_by_the_web_app(events: list[dict]) -> list[int]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the web app's rule cannot be run")
    done = subprocess.run(
        ["node", "--no-warnings", "--input-type=module", "-e", WEB_APP_RULE, TRIPS_JS.as_uri(), json.dumps(events)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


class TripEvents:
    def open_database(self) -> Database:
        database = Database.from_url(self.node.database_url, pool_size=1)
        self.addCleanup(database.dispose)
        return database

    async def test_the_history_tells_each_step_with_who_took_it_and_from_which_session(self):
        rider, rider_user = await self.users.new("rider")
        driver, driver_user = await self.users.new("driver")
        stranger, _ = await self.users.new("rider")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
            await driver.call("trip.update", nk=trip["nk"], status=status)
        history = await rider.call("trip.history", nk=trip["nk"])
        assert [(e["seq"], e["status"], e["actor"], e["session"]) for e in history] == [
            (1, "REQUESTED", {"authid": rider_user["username"], "role": "rider"}, rider.details.session),
            *((seq, status, {"authid": driver_user["username"], "role": "driver"}, driver.details.session)
              for seq, status in ((2, "STARTED"), (3, "IN_PROGRESS"), (4, "COMPLETED"))),
        ]  # fmt: skip
        assert history[0]["created"] == trip["created"] and history[0]["created"].endswith("+00:00")
        assert await driver.call("trip.history", nk=trip["nk"]) == history
        error = await error_of(stranger.call("trip.history", nk=trip["nk"]))
        assert error.error == "taxi.error.not_found"

    async def test_every_event_carries_the_seq_of_the_change_and_equals_the_calls_answer(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        alerts = await driver.events("taxi.drivers")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        assert await alerts.next() == trip and trip["seq"] == 1
        events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await events.next() == trip
        answers = [trip]
        for status in ("STARTED", "IN_PROGRESS"):
            answers.append(await driver.call("trip.update", nk=trip["nk"], status=status))
            assert await events.next() == answers[-1]
        assert await alerts.next() == answers[1]  # the accept; drivers do not hear of the ride itself
        answers.append(await rider.call("trip.get", nk=trip["nk"]))
        assert [answer["seq"] for answer in answers] == [1, 2, 3, 3]
        assert [t["seq"] for t in await rider.call("trip.list") if t["nk"] == trip["nk"]] == [3]

    async def test_an_event_that_committed_but_was_never_published_is_published_by_the_sweep(self):
        rider, rider_user = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        alerts = await driver.events("taxi.drivers")
        database = self.open_database()
        # As a backend that died between its commit and its publish would leave it: the trip
        # and its event are in the database, the event is in the outbox, and nobody heard.
        service = TaxiService(database, hasher=argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
        outcome = await threads.deferToThread(
            service.request_trip, rider=rider_user["username"], pick_up_address="A", drop_off_address="B"
        )
        assert await alerts.next(timeout=SWEPT_WITHIN) == outcome.trip
        events = await rider.events(f"taxi.trip.{outcome.trip['nk']}", get_retained=True)
        assert await events.next() == outcome.trip
        # Its row goes once the router has acknowledged it: it is not published again.
        assert await drained(database, outcome.trip["nk"])

    async def test_an_event_published_twice_changes_nothing_for_the_web_app(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        await events.next()
        accepted = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        await events.next()
        # The sweep publishes again what a backend published but had not yet forgotten (it
        # died before the router's acknowledgement came): the same event a second time.
        database = self.open_database()
        assert await drained(database, trip["nk"])
        await threads.deferToThread(publish_again, database, trip["nk"], seq=2)
        assert await events.next(timeout=SWEPT_WITHIN) == accepted
        assert events.received == [trip, accepted, accepted]
        assert taken_by_the_web_app(events.received) == [1, 2]
        # And an older event after a newer one is dropped as well.
        assert taken_by_the_web_app([trip, accepted, trip]) == [1, 2]


async def drained(database: Database, nk: str, within: float = 5.0) -> bool:
    """Whether the trip's outbox rows are gone within a few seconds (the backend deletes
    acknowledged rows in batches, components/outbox.py)."""
    for _ in range(round(within / 0.1)):
        if await threads.deferToThread(outbox_of, database, nk) == []:
            return True
        await sleep(0.1)
    return False


def outbox_of(database: Database, nk: str) -> list[int]:
    with database.unit_of_work(write=False) as session:
        query = select(OutboxEntry.event_id).join(TripEvent).join(Trip).where(Trip.nk == nk)
        return list(session.scalars(query))


def publish_again(database: Database, nk: str, *, seq: int) -> None:
    with database.unit_of_work(write=True) as session:
        event = session.scalar(select(TripEvent).join(Trip).where(Trip.nk == nk, TripEvent.seq == seq))
        trip = session.scalar(select(Trip).where(Trip.nk == nk))
        session.add(OutboxEntry(event=event, payload=trip_view(trip)))


class TripEventsOnSQLite(TripEvents, trial.OnSQLite):
    pass


class TripEventsOnPostgreSQL(TripEvents, trial.OnPostgreSQL):
    pass
