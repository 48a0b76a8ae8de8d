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
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions

from .conftest import Users
from .wamp import Client, Events, error_of, sleep

pytestmark = pytest.mark.e2e

NOT_AUTHORIZED = "wamp.error.not_authorized"
INVALID = "taxi.error.invalid_argument"
ROLES = ["anonymous", "rider", "driver"]
REGISTRATIONS = [("trip.request", "exact"), ("user.signup", "exact"), ("taxi.auth.authenticate", "exact"),
                 ("taxi.auth.authorize", "exact"), ("taxi.made_up", "exact"), ("trip.", "prefix")]  # fmt: skip
# Crossbar looks for an existing registration before it acts on a refused authorization,
# so a plain REGISTER of a taken URI may be refused under one of these names instead.
REFUSED_REGISTER = {NOT_AUTHORIZED, "wamp.error.procedure_already_exists",
                    "wamp.error.procedure_exists_with_different_invocation_policy"}  # fmt: skip


@dataclass
class Cast:
    anonymous: Client
    alice: Client  # a rider with two trips: one REQUESTED, one accepted by Dan
    bob: Client  # another rider
    dan: Client  # the driver of Alice's accepted trip
    eve: Client  # another driver
    requested: dict | None = None
    accepted: dict | None = None

    def of(self, role: str) -> Client:
        return {"anonymous": self.anonymous, "rider": self.alice, "driver": self.dan}[role]

    async def new_trip(self, *, accepted: bool = False) -> dict:
        trip = await self.alice.call("trip.request", pick_up_address="A", drop_off_address="B")
        return await self.dan.call("trip.update", nk=trip["nk"], status="STARTED") if accepted else trip


@pytest_twisted.async_yield_fixture(scope="module")
async def cast(node):
    users = Users(node)
    (alice, _), (bob, _) = await users.crowd("rider", 2)
    (dan, _), (eve, _) = await users.crowd("driver", 2)
    cast = Cast(await users.anonymous(), alice, bob, dan, eve)
    cast.requested = await cast.new_trip()
    cast.accepted = await cast.new_trip(accepted=True)
    yield cast
    users.close()


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


@pytest_twisted.ensureDeferred
async def test_a_driver_may_not_widen_the_drivers_topic_to_a_prefix_even_after_an_exact_subscription_was_allowed(cast):
    # The router caches an allow per (realm, role, URI, action): the match policy is not in that key.
    await assert_allowed(cast.dan.subscribe(Events().put, "taxi.drivers"))
    subscribe = cast.eve.subscribe(Events().put, "taxi.drivers", options=SubscribeOptions(match="prefix"))
    await assert_refused(subscribe)


# --- the authorizer's answers about one trip must never be cached for the whole role ---

PAIRS = {"riders": ("alice", "bob"), "drivers": ("dan", "eve")}


async def next_step(cast, trip: dict) -> dict:
    """Move the trip one step on (as its driver), so that its topic gets an event."""
    status = "STARTED" if trip["status"] == "REQUESTED" else "IN_PROGRESS"
    return await cast.dan.call("trip.update", nk=trip["nk"], status=status)


@pytest.mark.parametrize("stranger_first", [False, True], ids=["owner_first", "stranger_first"])
@pytest.mark.parametrize("pair", list(PAIRS))
@pytest_twisted.ensureDeferred
async def test_one_user_s_right_to_a_trip_is_never_another_s(cast, pair, stranger_first):
    owner, stranger = (getattr(cast, name) for name in PAIRS[pair])
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


@pytest_twisted.ensureDeferred
async def test_a_driver_refused_a_trip_topic_before_his_accept_is_let_in_after_it(cast):
    trip = await cast.new_trip()
    topic = "taxi.trip." + trip["nk"]
    await assert_refused(cast.dan.subscribe(Events().put, topic))
    accepted = await cast.dan.call("trip.update", nk=trip["nk"], status="STARTED")
    events = await cast.dan.events(topic, get_retained=True)
    assert await events.next() == accepted
    await events.subscription.unsubscribe()


# --- registering and publishing ---


@pytest.mark.parametrize("uri, match", REGISTRATIONS)
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_no_client_role_may_register_a_procedure(cast, role, uri, match):
    session = cast.of(role)
    for options in (RegisterOptions(match=match), RegisterOptions(match=match, invoke="roundrobin")):
        attempt = session.register(lambda *a, **kw: "hijacked", uri, options=options)
        await assert_refused(attempt, REFUSED_REGISTER)
    # Forcing the registration (which would kick the backend off) skips that look-up.
    attempt = session.register(lambda *a, **kw: "hijacked", uri, options=RegisterOptions(match=match, force_reregister=True))
    await assert_refused(attempt)
    # The backend still answers its procedures: nobody was let into its pool or kicked out of it.
    assert (await error_of(cast.anonymous.call("user.signup"))).error == INVALID
    assert (await error_of(cast.alice.call("trip.request"))).error == INVALID


@pytest_twisted.ensureDeferred
async def test_a_refused_publication_reaches_no_subscriber_and_is_not_retained(cast):
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
