"""A finished trip leaves the router (components/router_retention.py), on a node whose grace
is one second: after it, a late subscriber gets nothing retained and trip.get has the trip; an
unfinished trip keeps its retained event; what the router holds is counted by the router itself
(taxi.router.retained), which only the backend may ask. The short soak is
tests/faults/test_retention_soak.py; the grace itself, to the second, tests/unit/test_router_retention.py."""

from __future__ import annotations

import pytest

from components import uris

from ..support import trial
from ..support.wamp import connect_backend, error_of, router_holds, sleep

pytestmark = pytest.mark.e2e

GRACE = 1.0
QUIET = 0.5  # long enough for a retained event to arrive, had there been one


class Retention(trial.OnSQLite):
    separate = True  # `taxi router` and `taxi backend` apart: the test knows the backend's ticket
    environment = {"TAXI_RETAIN_GRACE_SECONDS": str(GRACE)}

    async def router_holds(self) -> dict:
        backend = await connect_backend(self.node.backend_socket, self.node.backend_ticket)
        self.users.sessions.append(backend)
        return await router_holds(backend)

    async def retained(self, session, nk: str) -> list:
        """What a new subscription to the trip's topic gets at once, asking for the retained event."""
        events = await session.events(uris.trip_topic(nk), get_retained=True)
        return await events.quiet_for(QUIET)

    async def test_a_finished_trip_leaves_the_router_after_the_grace_and_trip_get_still_has_it(self):
        before = await self.router_holds()
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        completed = await rider.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
        for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
            completed = await driver.call(uris.TRIP_UPDATE, nk=completed["nk"], status=status)
        canceled = await rider.call(uris.TRIP_REQUEST, pick_up_address="C", drop_off_address="D")
        canceled = await rider.call(uris.TRIP_CANCEL, nk=canceled["nk"])
        waiting = await rider.call(uris.TRIP_REQUEST, pick_up_address="E", drop_off_address="F")
        await sleep(GRACE)
        after = await self.router_holds()
        assert after["retained"] == before["retained"] + 1  # the trip still waiting for a driver
        for finished in (completed, canceled):
            assert await self.retained(rider, finished["nk"]) == []
            assert await rider.call(uris.TRIP_GET, nk=finished["nk"]) == finished
        assert await self.retained(rider, waiting["nk"]) == [waiting]

    async def test_a_driver_still_on_a_finished_trip_keeps_getting_its_events_and_then_it_goes(self):
        rider, _ = await self.users.new("rider")
        driver, _ = await self.users.new("driver")
        trip = await rider.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
        await driver.call(uris.TRIP_UPDATE, nk=trip["nk"], status="STARTED")
        events = await driver.events(uris.trip_topic(trip["nk"]), get_retained=True)
        assert (await events.next())["status"] == "STARTED"
        await driver.call(uris.TRIP_UPDATE, nk=trip["nk"], status="IN_PROGRESS")
        done = await driver.call(uris.TRIP_UPDATE, nk=trip["nk"], status="COMPLETED")
        held = await self.router_holds()
        assert [e["status"] for e in events.received] == ["STARTED", "IN_PROGRESS", "COMPLETED"]
        assert events.received[-1] == done
        await events.subscription.unsubscribe()
        assert (await self.router_holds())["subscriptions"] == held["subscriptions"] - 1
        assert await self.retained(rider, trip["nk"]) == []

    async def test_no_client_may_ask_the_router_what_it_holds(self):
        for role in ("rider", "driver"):
            session, _ = await self.users.new(role)
            assert (await error_of(session.call(uris.ROUTER_RETAINED))).error == "wamp.error.not_authorized"
        anonymous = await self.users.anonymous()
        assert (await error_of(anonymous.call(uris.ROUTER_RETAINED))).error == "wamp.error.not_authorized"
