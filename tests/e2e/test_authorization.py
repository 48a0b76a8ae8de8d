"""Authorization as users live it: what a refused subscription or publication does (nothing
reaches anyone, nothing is retained), answers about one trip never cached for another user,
a driver let into a trip's topic once he has accepted it, hijacked registrations.

The matrix itself (every role x every URI x every action and match policy, from the
contract's table) is test_authorization_matrix.py.

"Allowed" means the call reached the backend (it answers a result or a taxi.error.*);
"refused" means the router said wamp.error.not_authorized before anything ran.
"""

from dataclasses import dataclass

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions

from ..support import trial
from ..support.users import gather
from ..support.wamp import Client, Events, error_of, sleep

pytestmark = pytest.mark.e2e

NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID = "taxi.error.invalid_argument"
ROLES = ["anonymous", "rider", "driver"]
REGISTRATIONS = [("trip.request", "exact"), ("user.signup", "exact"), ("taxi.auth.authenticate", "exact"),
                 ("taxi.auth.authorize", "exact"), ("taxi.made_up", "exact"), ("trip.", "prefix")]  # fmt: skip


@dataclass
class Cast:
    anonymous: Client
    alice: Client  # a rider
    bob: Client  # another rider
    dan: Client  # a driver, who accepts the trips that a test wants accepted
    eve: Client  # another driver

    def of(self, role: str) -> Client:
        return {"anonymous": self.anonymous, "rider": self.alice, "driver": self.dan}[role]

    async def new_trip(self, *, accepted: bool = False) -> dict:
        trip = await self.alice.call("trip.request", pick_up_address="A", drop_off_address="B")
        return await self.dan.call("trip.update", nk=trip["nk"], status="STARTED") if accepted else trip


async def assert_allowed(attempt):
    await undo(await attempt)


async def assert_refused(attempt, errors=frozenset({NOT_AUTHORIZED})):
    try:
        granted = await attempt
    except ApplicationError as error:
        assert error.error in errors, error
    else:
        await undo(granted)  # so that one failure does not spill into the other tests
        raise AssertionError(f"expected a refusal, got {granted!r}")


async def undo(granted):
    for method in ("unsubscribe", "unregister"):
        if hasattr(granted, method):
            await getattr(granted, method)()


PAIRS = {"riders": ("alice", "bob"), "drivers": ("dan", "eve")}


async def next_step(cast, trip: dict) -> dict:
    """Move the trip one step on (as its driver), so that its topic gets an event."""
    status = "STARTED" if trip["status"] == "REQUESTED" else "IN_PROGRESS"
    return await cast.dan.call("trip.update", nk=trip["nk"], status=status)


class Authorization:
    async def cast(self) -> Cast:
        """Anonymous, Alice, Bob, Dan and Eve: the same users in every test of the class, logged in anew."""
        users = [*await self.accounts("rider", 2), *await self.accounts("driver", 2)]
        return Cast(await self.users.anonymous(), *await gather(self.users.login(user) for user in users))

    async def test_a_driver_may_not_widen_the_drivers_topic_to_a_prefix_even_after_an_exact_subscription_was_allowed(self):
        cast = await self.cast()
        # The router caches an allow per (realm, role, URI, action): the match policy is not in that key.
        await assert_allowed(cast.dan.subscribe(Events().put, "taxi.drivers"))
        subscribe = cast.eve.subscribe(Events().put, "taxi.drivers", options=SubscribeOptions(match="prefix"))
        await assert_refused(subscribe)

    # --- the authorizer's answers about one trip must never be cached for the whole role ---

    async def test_one_rider_s_right_to_a_trip_is_never_another_s_whoever_asks_first(self):
        await self.one_user_s_right_to_a_trip_is_never_another_s(await self.cast(), "riders")

    async def test_one_driver_s_right_to_a_trip_is_never_another_s_whoever_asks_first(self):
        await self.one_user_s_right_to_a_trip_is_never_another_s(await self.cast(), "drivers")

    async def one_user_s_right_to_a_trip_is_never_another_s(self, cast: Cast, pair: str):
        owner, stranger = (getattr(cast, name) for name in PAIRS[pair])
        for stranger_first in (False, True):
            trip = await cast.new_trip(accepted=pair == "drivers")
            topic = "taxi.trip." + trip["nk"]
            stranger_events = Events()
            if stranger_first:
                await assert_refused(stranger.subscribe(stranger_events.put, topic))
            owner_events = await owner.events(topic, get_retained=True)
            assert await owner_events.next() == trip
            if not stranger_first:
                await assert_refused(stranger.subscribe(stranger_events.put, topic))
            # Ask again: a second refusal must not come from a cached allow either.
            await assert_refused(stranger.subscribe(stranger_events.put, topic))

            moved = await next_step(cast, trip)
            assert await owner_events.next() == moved
            await sleep(0.3)
            assert stranger_events.received == []
            # The router sent nothing that no subscription of the stranger's asked for.
            assert [m for m in stranger.delivered if m.subscription not in stranger._subscriptions] == []
            assert stranger.is_attached()
            await owner_events.subscription.unsubscribe()

    async def test_a_driver_refused_a_trip_topic_before_his_accept_is_let_in_after_it(self):
        cast = await self.cast()
        trip = await cast.new_trip()
        topic = "taxi.trip." + trip["nk"]
        await assert_refused(cast.dan.subscribe(Events().put, topic))
        accepted = await cast.dan.call("trip.update", nk=trip["nk"], status="STARTED")
        events = await cast.dan.events(topic, get_retained=True)
        assert await events.next() == accepted
        await events.subscription.unsubscribe()

    # --- registering and publishing ---

    async def test_no_client_role_may_register_a_procedure(self):
        cast = await self.cast()
        for role in ROLES:
            for uri, match in REGISTRATIONS:
                await self.refused_to_register(cast, cast.of(role), uri, match)

    async def refused_to_register(self, cast: Cast, session: Client, uri: str, match: str):
        # Whatever is registered and however: not_authorized, and nothing about the registration
        # (Crossbar alone answered a taken URI with its invocation policy; components/router_guard.py).
        for options in (RegisterOptions(match=match), RegisterOptions(match=match, invoke="roundrobin"),
                        RegisterOptions(match=match, force_reregister=True)):  # fmt: skip
            await assert_refused(session.register(lambda *a, **kw: "hijacked", uri, options=options))
        # The backend still answers its procedures: nobody was let into its pool or kicked out of it.
        assert (await error_of(cast.anonymous.call("user.signup"))).error == INVALID
        assert (await error_of(cast.alice.call("trip.request"))).error == INVALID

    async def test_a_refused_publication_reaches_no_subscriber_and_is_not_retained(self):
        cast = await self.cast()
        trip = await cast.new_trip(accepted=True)
        topic = "taxi.trip." + trip["nk"]
        rider_events = await cast.alice.events(topic, get_retained=True)
        assert await rider_events.next() == trip
        driver_alerts = await cast.eve.events("taxi.drivers")
        forged = {**trip, "status": "COMPLETED"}
        for forger, target in [(cast.dan, topic), (cast.bob, topic), (cast.alice, "taxi.drivers")]:
            publish = forger.publish(target, forged, options=PublishOptions(acknowledge=True, retain=True))
            await assert_refused(publish)
        assert await rider_events.quiet_for(0.3) == []
        assert driver_alerts.received == []
        late = await cast.dan.events(topic, get_retained=True)
        assert await late.next() == trip  # the real latest state, not the forged one
        for events in (rider_events, driver_alerts, late):
            await events.subscription.unsubscribe()


class AuthorizationOnSQLite(Authorization, trial.OnSQLite):
    pass


class AuthorizationOnPostgreSQL(Authorization, trial.OnPostgreSQL):
    pass
