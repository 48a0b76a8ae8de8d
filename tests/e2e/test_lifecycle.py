"""A trip's life over the wire: retried requests, cancels, and who sees which trips in what order."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from twisted.internet import defer

from ..support import trial
from ..support.users import gather
from ..support.wamp import Client, Events, error_of

pytestmark = pytest.mark.e2e

QUIET = 0.3
NOT_FOUND = "taxi.error.not_found"


@dataclass
class Cast:
    alice: Client  # a rider
    bob: Client  # another rider
    dan: Client  # a driver
    eve: Client  # another driver
    following: list = field(default_factory=list)

    async def follow(self, session: Client, topic: str, **options) -> Events:
        events = await session.events(topic, **options)
        self.following.append(events)
        return events

    async def request(self, rider=None, **kwargs) -> dict:
        return await (rider or self.alice).call("trip.request", pick_up_address="A", drop_off_address="B", **kwargs)


async def next_about(events: Events, trip: dict):
    while (event := await events.next())["nk"] != trip["nk"]:
        pass
    return event


def about(events: Events, trip: dict) -> list:
    return [event for event in events.received if event["nk"] == trip["nk"]]


def nks(trips) -> list:
    return [trip["nk"] for trip in trips]


class Lifecycle:
    async def cast(self) -> Cast:
        """Alice, Bob, Dan and Eve, the same users in every test of the class, each logged in anew."""
        riders = await self.accounts("rider", 2)
        drivers = await self.accounts("driver", 2)
        return Cast(*await gather(self.users.login(user) for user in riders + drivers))

    # --- request_id ---
    async def test_a_retried_request_id_gets_the_same_trip_and_makes_no_second_event(self):
        cast = await self.cast()
        alerts = await cast.follow(cast.dan, "taxi.drivers")
        first = await cast.request(request_id="req-1")
        assert await next_about(alerts, first) == first

        again = await cast.request(request_id="req-1")

        assert again == first
        assert await alerts.quiet_for(QUIET) == []
        assert about(alerts, first) == [first]
        assert nks(await cast.alice.call("trip.list")).count(first["nk"]) == 1
        # A request_id is the rider's own: another rider's same request_id is another trip.
        other = await cast.request(cast.bob, request_id="req-1")
        assert other["nk"] != first["nk"] and other["rider"]["username"] == cast.bob.details.authid

    async def test_retries_of_one_request_id_sent_at_once_make_one_trip_and_one_event(self):
        cast = await self.cast()
        alerts = await cast.follow(cast.eve, "taxi.drivers")
        results = await defer.gatherResults([defer.ensureDeferred(cast.request(request_id="burst")) for _ in range(5)])
        assert all(result == results[0] for result in results)
        assert await next_about(alerts, results[0]) == results[0]
        await alerts.quiet_for(QUIET)
        assert about(alerts, results[0]) == [results[0]]

    # --- cancel ---
    async def test_canceling_a_requested_trip_tells_the_drivers_and_the_trip_topic(self):
        cast = await self.cast()
        alerts = await cast.follow(cast.dan, "taxi.drivers")
        trip = await cast.request()
        events = await cast.follow(cast.alice, f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await events.next() == trip

        canceled = await cast.alice.call("trip.cancel", nk=trip["nk"])

        assert (canceled["status"], canceled["driver"]) == ("CANCELED", None)
        assert await events.next() == canceled
        assert [e["status"] for e in [await next_about(alerts, trip), await next_about(alerts, trip)]] == [
            "REQUESTED", "CANCELED"]  # fmt: skip
        assert trip["nk"] not in nks(await cast.dan.call("trip.available"))
        assert (await error_of(cast.dan.call("trip.update", nk=trip["nk"], status="STARTED"))).error == NOT_FOUND
        assert (await error_of(cast.alice.call("trip.cancel", nk=trip["nk"]))).error == "taxi.error.invalid_transition"
        assert await cast.alice.call("trip.get", nk=trip["nk"]) == canceled

    async def test_canceling_a_started_trip_tells_the_drivers_the_trip_topic_and_its_driver(self):
        cast = await self.cast()
        trip = await cast.request()
        accepted = await cast.dan.call("trip.update", nk=trip["nk"], status="STARTED")
        alerts = await cast.follow(cast.eve, "taxi.drivers")
        rider_events = await cast.follow(cast.alice, f"taxi.trip.{trip['nk']}", get_retained=True)
        driver_events = await cast.follow(cast.dan, f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await rider_events.next() == accepted and await driver_events.next() == accepted

        # Only the trip's own rider may cancel it; to anyone else it does not exist.
        assert (await error_of(cast.bob.call("trip.cancel", nk=trip["nk"]))).error == NOT_FOUND
        canceled = await cast.alice.call("trip.cancel", nk=trip["nk"])

        assert (canceled["status"], canceled["driver"]) == ("CANCELED", accepted["driver"])
        assert await rider_events.next() == canceled
        assert await driver_events.next() == canceled
        assert await next_about(alerts, trip) == canceled
        refused = await error_of(cast.dan.call("trip.update", nk=trip["nk"], status="IN_PROGRESS"))
        assert refused.error == "taxi.error.invalid_transition"
        assert await rider_events.quiet_for(QUIET) == []

    # --- what each user sees ---
    async def test_trip_list_is_newest_first_and_active_leaves_out_completed_and_canceled_trips(self):
        users = self.users
        rider, _ = await users.new("rider")
        driver, _ = await users.new("driver")
        t1, t2, t3, t4 = [await rider.call("trip.request", pick_up_address=f"A{n}", drop_off_address="B") for n in range(4)]
        await rider.call("trip.cancel", nk=t1["nk"])
        for trip in (t2, t3):
            await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        for status in ("IN_PROGRESS", "COMPLETED"):
            await driver.call("trip.update", nk=t3["nk"], status=status)

        assert nks(await rider.call("trip.list")) == nks([t4, t3, t2, t1])
        assert nks(await rider.call("trip.list", active=False)) == nks([t4, t3, t2, t1])
        assert nks(await rider.call("trip.list", active=True)) == nks([t4, t2])
        assert nks(await driver.call("trip.list")) == nks([t3, t2])
        assert nks(await driver.call("trip.list", active=True)) == nks([t2])
        listed = await rider.call("trip.list")
        assert [trip["status"] for trip in listed] == ["REQUESTED", "COMPLETED", "STARTED", "CANCELED"]
        assert listed == [await rider.call("trip.get", nk=trip["nk"]) for trip in listed]

    async def test_trip_available_is_oldest_first_and_leaves_out_accepted_and_canceled_trips(self):
        cast = await self.cast()
        a, b, c, d = [await cast.request() for _ in range(4)]
        await cast.dan.call("trip.update", nk=b["nk"], status="STARTED")
        await cast.alice.call("trip.cancel", nk=c["nk"])

        available = await cast.eve.call("trip.available")

        assert [nk for nk in nks(available) if nk in nks([a, b, c, d])] == nks([a, d])
        assert {trip["status"] for trip in available} == {"REQUESTED"}
        created = [dt.datetime.fromisoformat(trip["created"]) for trip in available]
        assert created == sorted(created)
        assert [trip for trip in available if trip["nk"] == a["nk"]] == [a]

    async def test_trip_get_shows_a_trip_to_its_rider_its_driver_and_while_requested_to_any_driver(self):
        cast = await self.cast()
        trip = await cast.request()
        unknown = await error_of(cast.alice.call("trip.get", nk="f" * 32))
        assert unknown.error == NOT_FOUND
        stranger = await error_of(cast.bob.call("trip.get", nk=trip["nk"]))
        assert (stranger.error, stranger.args) == (NOT_FOUND, unknown.args)  # existence is not revealed
        assert await cast.dan.call("trip.get", nk=trip["nk"]) == trip
        assert await cast.eve.call("trip.get", nk=trip["nk"]) == trip

        accepted = await cast.dan.call("trip.update", nk=trip["nk"], status="STARTED")

        refused = await error_of(cast.eve.call("trip.get", nk=trip["nk"]))
        assert (refused.error, refused.args) == (NOT_FOUND, unknown.args)
        assert await cast.dan.call("trip.get", nk=trip["nk"]) == accepted
        assert await cast.alice.call("trip.get", nk=trip["nk"]) == accepted
        assert (await error_of(cast.bob.call("trip.get", nk=trip["nk"]))).error == NOT_FOUND


class LifecycleOnSQLite(Lifecycle, trial.OnSQLite):
    pass


class LifecycleOnPostgreSQL(Lifecycle, trial.OnPostgreSQL):
    pass
