"""The authorization matrix of shared/DESIGN.md, asked of the real router role by role.

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
MAY_CALL = {
    "anonymous": {"user.signup"},
    "rider": {"trip.request", "trip.cancel", "trip.list", "trip.get"},
    "driver": {"trip.update", "trip.list", "trip.get", "trip.available"},
}
# What each procedure answers when called with no arguments at all.
ANSWER_WITHOUT_ARGUMENTS = {
    "user.signup": INVALID,
    "trip.request": INVALID,
    "trip.update": INVALID,
    "trip.cancel": INVALID,
    "trip.get": INVALID,
    "trip.list": list,
    "trip.available": list,
}
BACKEND_ONLY = ["taxi.auth.authenticate", "taxi.auth.authorize", "wamp.session.list", "wamp.registration.list", "trip.delete"]
# Subscriptions that would reach other people's trips (or everybody's sessions).
WIDE_SUBSCRIPTIONS = [
    ("taxi.", "prefix"),
    ("taxi", "prefix"),
    ("taxi.trip.", "prefix"),
    ("taxi.trip.", "wildcard"),
    ("taxi..", "wildcard"),
    ("wamp.session.on_join", "exact"),
    ("wamp.subscription.on_subscribe", "exact"),
]
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


# --- calls ---


@pytest.mark.parametrize("procedure", list(ANSWER_WITHOUT_ARGUMENTS))
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_each_role_may_call_exactly_the_procedures_the_contract_gives_it(cast, role, procedure):
    call = cast.of(role).call(procedure)
    if procedure not in MAY_CALL[role]:
        await assert_refused(call)
    elif ANSWER_WITHOUT_ARGUMENTS[procedure] == INVALID:
        assert (await error_of(call)).error == INVALID  # the backend, not the router, answered
    else:
        assert isinstance(await call, list)


@pytest.mark.parametrize("procedure", BACKEND_ONLY)
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_no_client_role_may_call_the_backend_s_own_procedures(cast, role, procedure):
    await assert_refused(cast.of(role).call(procedure, "alice", "guess"))


# --- subscriptions ---


@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_only_drivers_may_subscribe_to_the_drivers_topic(cast, role):
    subscribe = cast.of(role).subscribe(Events().put, "taxi.drivers")
    if role == "driver":
        await assert_allowed(subscribe)
    else:
        await assert_refused(subscribe)


FOLLOWERS = [  # (who, which trip, may follow)
    ("alice", "requested", True),  # her own trip
    ("alice", "accepted", True),
    ("dan", "accepted", True),  # the trip he drives
    ("bob", "requested", False),  # another rider
    ("bob", "accepted", False),
    ("eve", "requested", False),  # another driver, even while the trip is up for grabs
    ("dan", "requested", False),  # ... and that includes the driver who will accept it later
    ("eve", "accepted", False),
    ("anonymous", "requested", False),
    ("anonymous", "accepted", False),
]


@pytest.mark.parametrize("who, which, allowed", FOLLOWERS)
@pytest_twisted.ensureDeferred
async def test_a_trip_topic_is_open_to_its_own_rider_and_driver_only(cast, who, which, allowed):
    topic = "taxi.trip." + getattr(cast, which)["nk"]
    subscribe = getattr(cast, who).subscribe(Events().put, topic)
    if allowed:
        await assert_allowed(subscribe)
    else:
        await assert_refused(subscribe)


@pytest.mark.parametrize("topic", ["taxi.trip." + "0" * 32, "taxi.trip.NOT-A-KEY", "taxi.trip.x.y", "taxi.made_up"])
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_topics_of_no_trip_are_refused(cast, role, topic):
    await assert_refused(cast.of(role).subscribe(Events().put, topic))


@pytest.mark.parametrize("topic, match", WIDE_SUBSCRIPTIONS)
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_prefix_wildcard_and_meta_subscriptions_are_refused_to_every_role(cast, role, topic, match):
    subscribe = cast.of(role).subscribe(Events().put, topic, options=SubscribeOptions(match=match))
    await assert_refused(subscribe)


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


@pytest.mark.parametrize("topic", ["taxi.drivers", "taxi.trip.{accepted}", "taxi.made_up", "com.example.news"])
@pytest.mark.parametrize("role", ROLES)
@pytest_twisted.ensureDeferred
async def test_no_client_role_may_publish(cast, role, topic):
    topic = topic.format(accepted=cast.accepted["nk"])
    publish = cast.of(role).publish(topic, {"status": "COMPLETED"}, options=PublishOptions(acknowledge=True))
    await assert_refused(publish)


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
