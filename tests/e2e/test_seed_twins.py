"""WAMP twins of the seed's WebSocketTripTest (shared/seed): the behaviour taxi grew from.

The seed's clients joined channel groups on connect; here a client subscribes to
taxi.drivers (drivers) and to taxi.trip.<nk> (the trip's rider and driver), and the
router, not the backend, decides who may.
"""

import pytest

from ..support import trial

pytestmark = pytest.mark.e2e


class SeedTwins:
    async def test_driver_can_connect_via_websockets(self):
        driver, user = await self.users.new("driver")
        assert (driver.details.authid, driver.details.authrole) == (user["username"], "driver")

    async def test_rider_can_connect_via_websockets(self):
        rider, user = await self.users.new("rider")
        assert (rider.details.authid, rider.details.authrole) == (user["username"], "rider")

    async def test_rider_can_create_trips(self):
        rider, user = await self.users.new("rider")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        assert (trip["pick_up_address"], trip["drop_off_address"], trip["status"]) == ("A", "B", "REQUESTED")
        assert trip["rider"] == user and trip["driver"] is None
        assert await rider.call("trip.get", nk=trip["nk"]) == trip

    async def test_rider_is_subscribed_to_trip_channel_on_creation(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        # Subscribing after the call misses nothing: the retained event is the trip as created.
        events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await events.next() == trip
        accepted = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        assert await events.next() == accepted

    async def test_driver_can_update_trips(self):
        rider, _ = await self.users.new("rider")
        driver, driver_user = await self.users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        updated = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        assert updated["status"] == "STARTED" and updated["driver"] == driver_user
        assert await driver.call("trip.get", nk=trip["nk"]) == updated

    async def test_driver_is_subscribed_to_trip_channel_on_update(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        events = await driver.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        assert (await events.next())["status"] == "STARTED"
        in_progress = await driver.call("trip.update", nk=trip["nk"], status="IN_PROGRESS")
        assert await events.next() == in_progress

    async def test_driver_is_alerted_on_trip_creation(self):
        driver, _ = await self.users.new("driver")
        alerts = await driver.events("taxi.drivers")
        rider, _ = await self.users.new("rider")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        assert await alerts.next() == trip

    async def test_rider_is_alerted_on_trip_update(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        await events.next()
        updated = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        assert await events.next() == updated


class SeedTwinsOnSQLite(SeedTwins, trial.OnSQLite):
    pass


class SeedTwinsOnPostgreSQL(SeedTwins, trial.OnPostgreSQL):
    pass
