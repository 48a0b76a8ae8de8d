"""Twenty drivers tap "accept" at the same moment: exactly one gets the trip.

Every driver is subscribed to taxi.drivers and has seen the request before the race
starts; all twenty calls are sent before any answer is awaited.
"""

from dataclasses import dataclass

import pytest
from twisted.internet import defer, reactor

from ..support import trial
from ..support.users import gather
from ..support.wamp import EVENT_TIMEOUT, Client, Events, error_of, sleep

pytestmark = pytest.mark.e2e

DRIVERS = 20
ROUNDS = 5
QUIET = 0.3


@dataclass
class Fleet:
    rider: Client
    drivers: list[Client]
    driver_users: list[dict]
    alerts: list[Events]  # each driver's taxi.drivers subscription, for the whole test

    async def request(self) -> tuple[dict, Events]:
        """A new trip, seen by every driver; and the rider's subscription to its topic."""
        trip = await self.rider.call("trip.request", pick_up_address="Station", drop_off_address="Airport")
        events = await self.rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await events.next() == trip
        for alerts in self.alerts:
            assert await next_about(alerts, trip) == trip
        return trip, events

    async def race(self, trip: dict, *extra_calls) -> tuple[list, list]:
        """All drivers accept `trip` at once: ([(driver index, result)], [refusals]) and the extras' outcomes."""
        calls = [driver.call("trip.update", nk=trip["nk"], status="STARTED") for driver in self.drivers]
        outcomes = await defer.DeferredList([*calls, *extra_calls], consumeErrors=True)
        accepts, extras = outcomes[: len(calls)], outcomes[len(calls) :]
        winners = [(i, value) for i, (ok, value) in enumerate(accepts) if ok]
        refusals = [failure.value.error for ok, failure in accepts if not ok]
        return winners, refusals, extras


async def next_about(events: Events, trip: dict):
    """The next event about `trip` (events about other trips are passed over)."""
    while (event := await events.next())["nk"] != trip["nk"]:
        pass
    return event


async def until(predicate, timeout: float = EVENT_TIMEOUT):
    deadline = reactor.seconds() + timeout
    while not predicate():
        assert reactor.seconds() < deadline, "timed out"
        await sleep(0.05)


def about(events: Events, trip: dict) -> list:
    return [event for event in events.received if event["nk"] == trip["nk"]]


class AcceptRace:
    async def fleet(self) -> Fleet:
        """A rider and twenty drivers, the same users in every test of the class, logged in anew;
        every driver subscribed to taxi.drivers."""
        [rider_user], driver_users = await self.accounts("rider", 1), await self.accounts("driver", DRIVERS)
        rider, *drivers = await gather(self.users.login(user) for user in [rider_user, *driver_users])
        alerts = await gather(driver.events("taxi.drivers") for driver in drivers)
        return Fleet(rider, drivers, driver_users, alerts)

    async def test_of_twenty_drivers_accepting_at_once_exactly_one_wins_round_after_round(self):
        fleet = await self.fleet()
        for _ in range(ROUNDS):
            trip, rider_events = await fleet.request()

            winners, refusals, _ = await fleet.race(trip)

            assert len(winners) == 1, winners
            assert refusals == ["taxi.error.trip_taken"] * (DRIVERS - 1)
            index, accepted = winners[0]
            assert (accepted["status"], accepted["driver"]) == ("STARTED", fleet.driver_users[index])
            assert {**accepted, "status": "REQUESTED", "driver": None, "updated": trip["updated"], "seq": 1} == trip
            assert accepted["seq"] == 2
            # The rider hears of it once, naming the winner; so does every driver on taxi.drivers.
            assert await rider_events.next() == accepted
            for alerts in fleet.alerts:
                assert await next_about(alerts, trip) == accepted
            assert await rider_events.quiet_for(QUIET) == []
            for alerts in fleet.alerts:
                assert [event["status"] for event in about(alerts, trip)] == ["REQUESTED", "STARTED"]
            assert await fleet.rider.call("trip.get", nk=trip["nk"]) == accepted
            assert trip["nk"] not in [t["nk"] for t in await fleet.drivers[0].call("trip.available")]
            await rider_events.subscription.unsubscribe()

    async def test_the_winner_drives_the_trip_to_its_end_and_the_losers_cannot_touch_it(self):
        fleet = await self.fleet()
        trip, rider_events = await fleet.request()
        (index, accepted), = (await fleet.race(trip))[0]  # fmt: skip
        winner, loser = fleet.drivers[index], fleet.drivers[(index + 1) % DRIVERS]
        assert await rider_events.next() == accepted
        nk = trip["nk"]

        async def refused(session, status):
            return (await error_of(session.call("trip.update", nk=nk, status=status))).error

        assert await refused(loser, "STARTED") == "taxi.error.trip_taken"
        assert await refused(loser, "IN_PROGRESS") == "taxi.error.not_found"
        assert await refused(winner, "STARTED") == "taxi.error.invalid_transition"
        assert await refused(winner, "COMPLETED") == "taxi.error.invalid_transition"  # no skipping a step

        in_progress = await winner.call("trip.update", nk=nk, status="IN_PROGRESS")
        assert (in_progress["status"], in_progress["driver"]) == ("IN_PROGRESS", fleet.driver_users[index])
        assert await rider_events.next() == in_progress
        assert await refused(loser, "COMPLETED") == "taxi.error.not_found"
        assert await refused(winner, "STARTED") == "taxi.error.invalid_transition"  # nothing goes backwards

        completed = await winner.call("trip.update", nk=nk, status="COMPLETED")
        assert completed["status"] == "COMPLETED"
        assert await rider_events.next() == completed

        canceled = await error_of(fleet.rider.call("trip.cancel", nk=nk))
        assert canceled.error == "taxi.error.invalid_transition"
        assert await refused(winner, "COMPLETED") == "taxi.error.invalid_transition"
        assert (await error_of(loser.call("trip.get", nk=nk))).error == "taxi.error.not_found"
        assert await fleet.rider.call("trip.get", nk=nk) == completed
        assert await winner.call("trip.get", nk=nk) == completed
        # Only the accept went to taxi.drivers; the later steps went to the trip's own topic.
        assert await rider_events.quiet_for(QUIET) == []
        assert [event["status"] for event in about(fleet.alerts[index], trip)] == ["REQUESTED", "STARTED"]
        await rider_events.subscription.unsubscribe()

    async def test_a_cancel_racing_the_accepts_always_leaves_the_trip_canceled(self):
        fleet = await self.fleet()
        trip, rider_events = await fleet.request()

        winners, refusals, [(canceled_ok, canceled)] = await fleet.race(
            trip, fleet.rider.call("trip.cancel", nk=trip["nk"])
        )

        # A STARTED trip can still be canceled, so the rider always gets her way; at most one
        # driver got the trip before that, and the others were told it is gone.
        assert canceled_ok and canceled["status"] == "CANCELED", canceled
        assert len(winners) <= 1
        assert set(refusals) <= {"taxi.error.trip_taken", "taxi.error.not_found"}
        assert len(winners) + len(refusals) == DRIVERS
        assert canceled["driver"] == (winners[0][1]["driver"] if winners else None)
        statuses = ["REQUESTED", *(["STARTED"] * len(winners)), "CANCELED"]
        for events in [rider_events, *fleet.alerts]:
            await until(lambda: len(about(events, trip)) >= len(statuses))
        await rider_events.quiet_for(QUIET)
        for events in [rider_events, *fleet.alerts]:
            assert sorted(e["status"] for e in about(events, trip)) == sorted(statuses)
        # Whatever order the two changes were made in, the trip's topic retains the last one.
        await rider_events.subscription.unsubscribe()
        late = await fleet.rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
        assert await late.next() == canceled == await fleet.rider.call("trip.get", nk=trip["nk"])
        await late.subscription.unsubscribe()


class AcceptRaceOnSQLite(AcceptRace, trial.OnSQLite):
    pass


class AcceptRaceOnPostgreSQL(AcceptRace, trial.OnPostgreSQL):
    pass
