"""Dispatch through the router, on a node with short windows (TAXI_OFFER_SECONDS=1, a batch of
2, expiry after 5 s): a located request's offer reaches only its batch (the router filters
with eligible_authid: no other driver's client receives a thing), nobody else may accept it,
the next batch gets it once the window ends, its expiry reaches the rider and every driver it
was offered to; and a request without a location still reaches every driver, as before."""

from __future__ import annotations

import itertools
import random

import pytest

from taxi_core.geo import KM_PER_DEGREE

from ..support import trial
from ..support.wamp import Events, error_of

pytestmark = pytest.mark.e2e

WINDOW = 1
TIMEOUT = 5
# The dispatcher ticks every second: a step comes at most about this late.
LATE = 1.5
NOT_FOUND = "taxi.error.not_found"
# Each test dispatches around a city of its own, far from the others' drivers (the node and
# its drivers' positions outlive a test).
_cities = itertools.count()


def offer_of(event) -> tuple[str, dict]:
    """(offer, the trip) of an event on taxi.drivers that carries an offer."""
    (trip,), kwargs = event
    return kwargs["offer"], trip


class Dispatch:
    environment = {"TAXI_OFFER_SECONDS": str(WINDOW), "TAXI_OFFER_BATCH": "2",
                   "TAXI_REQUEST_TIMEOUT_SECONDS": str(TIMEOUT)}  # fmt: skip

    async def setUp(self):
        await super().setUp()
        n = next(_cities)
        self.city = {"lat": -60 + 7 * (n % 18), "lng": -170 + 20 * (n // 18) + random.uniform(0, 5)}

    async def driver_at(self, km_north: float) -> tuple:
        """A driver online `km_north` of the city's pick-up point, listening on taxi.drivers."""
        session, user = await self.users.new("driver")
        events = await session.events("taxi.drivers")
        await session.call("driver.locate", lat=self.city["lat"] + km_north / KM_PER_DEGREE, lng=self.city["lng"])
        return session, user, events

    async def request(self, **location) -> tuple:
        rider, _ = await self.users.new("rider")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B", **location)
        followed = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        return rider, trip, followed

    async def test_only_the_offered_drivers_receive_the_offer_and_nobody_else_may_take_it(self):
        (d1, u1, e1), (d2, _, e2), (far, _, e_far) = [await self.driver_at(km) for km in (1, 2, 15)]
        _, trip, _ = await self.request(pick_up_location=self.city)
        assert trip["dispatch"]["round"] == 1 and trip["dispatch"]["offered"] == 2
        for events in (e1, e2):
            offer, offered = offer_of(await events.next())
            assert (offer, offered["nk"]) == ("open", trip["nk"])
            assert events.received[0][1]["expires"] > trip["created"]
        # Beyond the 10 km: never offered, so not his to see or take.
        assert (await error_of(far.call("trip.update", nk=trip["nk"], status="STARTED"))).error == NOT_FOUND
        assert (await error_of(far.call("trip.get", nk=trip["nk"]))).error == NOT_FOUND
        assert trip["nk"] not in [t["nk"] for t in await far.call("trip.available")]
        assert trip["nk"] in [t["nk"] for t in await d2.call("trip.available")]
        accepted = await d1.call("trip.update", nk=trip["nk"], status="STARTED")
        assert accepted["driver"]["username"] == u1["username"]
        assert offer_of(await e2.next()) == ("closed", accepted)
        assert (await error_of(d2.call("trip.update", nk=trip["nk"], status="STARTED"))).error == "taxi.error.trip_taken"
        assert await e_far.quiet_for(WINDOW + LATE) == []

    async def test_the_next_batch_gets_it_after_the_window_and_its_expiry_reaches_the_rider_and_them_all(self):
        drivers = [await self.driver_at(km) for km in (1, 2, 3, 20)]
        rider, trip, followed = await self.request(pick_up_location=self.city)
        (d1, _, e1), (_, _, e2), (_, _, e3), (_, _, e_far) = drivers
        assert offer_of(await e3.next(timeout=WINDOW + LATE + 1))[0] == "open"
        for events in (e1, e2):
            assert [offer_of(event)[0] for event in [await events.next(), await events.next()]] == ["open", "closed"]
        assert trip["nk"] in [t["nk"] for t in await d1.call("trip.available")]  # passed on, still his to take
        assert offer_of(await e3.next(timeout=TIMEOUT + LATE))[0] == "closed"  # the window ends: nobody new
        states = []
        while not states or states[-1]["status"] != "EXPIRED":
            states.append(await followed.next(timeout=TIMEOUT + LATE))
        assert [(s["dispatch"]["round"], s["dispatch"]["state"]) for s in states] == [
            (1, "offering"), (2, "offering"), (2, "searching"), (2, "expired")]  # fmt: skip
        assert states[-1]["dispatch"]["offered"] == 3 and states[-1]["dispatch"]["radius_km"] == 3.0
        for events in (e1, e2, e3):
            offer, expired = offer_of(await events.next(timeout=LATE + 1))
            assert (offer, expired["status"]) == ("closed", "EXPIRED")
        assert e_far.received == []
        assert (await error_of(rider.call("trip.cancel", nk=trip["nk"]))).error == "taxi.error.invalid_transition"
        assert (await rider.call("trip.history", nk=trip["nk"]))[-1]["actor"] == {"authid": None, "role": "service"}

    async def test_a_request_without_a_location_still_reaches_every_driver(self):
        drivers = [await self.driver_at(km) for km in (1, 50)]
        _, trip, _ = await self.request()
        assert (trip["pick_up_location"], trip["dispatch"]) == (None, None)
        for _, _, events in drivers:
            assert await next_about(events, trip) == trip  # no offer=: the trip alone, to everyone
        accepted = await drivers[1][0].call("trip.update", nk=trip["nk"], status="STARTED")
        assert await next_about(drivers[0][2], trip) == accepted

    async def test_a_driver_who_goes_offline_or_moves_away_gets_no_offers(self):
        (gone, _, e_gone), (moved, _, e_moved), (_, _, e_here) = [await self.driver_at(km) for km in (0.5, 0.7, 4)]
        await gone.call("driver.offline")
        await moved.call("driver.locate", lat=self.city["lat"] + 0.5, lng=self.city["lng"])  # some 55 km north
        _, trip, _ = await self.request(pick_up_location=self.city)
        assert offer_of(await e_here.next())[0] == "open"
        assert (await e_gone.quiet_for(0.5), e_moved.received) == ([], [])


async def next_about(events: Events, trip: dict):
    """The next event about `trip` (other tests' unlocated requests reach every driver too)."""
    while (event := await events.next())["nk"] != trip["nk"]:
        pass
    return event


class DispatchOnSQLite(Dispatch, trial.OnSQLite):
    pass


class DispatchOnPostgreSQL(Dispatch, trial.OnPostgreSQL):
    pass
