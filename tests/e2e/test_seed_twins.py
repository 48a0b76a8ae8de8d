"""WAMP twins of the seed's WebSocketTripTest (shared/seed): the behaviour taxi grew from.

The seed's clients joined channel groups on connect; here a client subscribes to
taxi.drivers (drivers) and to taxi.trip.<nk> (the trip's rider and driver), and the
router, not the backend, decides who may.
"""

import pytest
import pytest_twisted

pytestmark = pytest.mark.e2e


@pytest_twisted.ensureDeferred
async def test_driver_can_connect_via_websockets(users):
    driver, user = await users.new("driver")
    assert (driver.details.authid, driver.details.authrole) == (user["username"], "driver")


@pytest_twisted.ensureDeferred
async def test_rider_can_connect_via_websockets(users):
    rider, user = await users.new("rider")
    assert (rider.details.authid, rider.details.authrole) == (user["username"], "rider")


@pytest_twisted.ensureDeferred
async def test_rider_can_create_trips(users):
    rider, user = await users.new("rider")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    assert (trip["pick_up_address"], trip["drop_off_address"], trip["status"]) == ("A", "B", "REQUESTED")
    assert trip["rider"] == user and trip["driver"] is None
    assert await rider.call("trip.get", nk=trip["nk"]) == trip


@pytest_twisted.ensureDeferred
async def test_rider_is_subscribed_to_trip_channel_on_creation(users):
    rider, _ = await users.new("rider")
    driver, _ = await users.new("driver")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    # Subscribing after the call misses nothing: the retained event is the trip as created.
    events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
    assert await events.next() == trip
    accepted = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    assert await events.next() == accepted


@pytest_twisted.ensureDeferred
async def test_driver_can_update_trips(users):
    rider, _ = await users.new("rider")
    driver, driver_user = await users.new("driver")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    updated = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    assert updated["status"] == "STARTED" and updated["driver"] == driver_user
    assert await driver.call("trip.get", nk=trip["nk"]) == updated


@pytest_twisted.ensureDeferred
async def test_driver_is_subscribed_to_trip_channel_on_update(users):
    rider, _ = await users.new("rider")
    driver, _ = await users.new("driver")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    events = await driver.events(f"taxi.trip.{trip['nk']}", get_retained=True)
    assert (await events.next())["status"] == "STARTED"
    in_progress = await driver.call("trip.update", nk=trip["nk"], status="IN_PROGRESS")
    assert await events.next() == in_progress


@pytest_twisted.ensureDeferred
async def test_driver_is_alerted_on_trip_creation(users):
    driver, _ = await users.new("driver")
    alerts = await driver.events("taxi.drivers")
    rider, _ = await users.new("rider")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    assert await alerts.next() == trip


@pytest_twisted.ensureDeferred
async def test_rider_is_alerted_on_trip_update(users):
    rider, _ = await users.new("rider")
    driver, _ = await users.new("driver")
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
    await events.next()
    updated = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    assert await events.next() == updated
