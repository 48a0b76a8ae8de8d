"""Router-to-router links (Crossbar's rlinks) against taxi's contract: two real routers of taxi's
config, each with an rlink to the other (tests/support/linked_routers.py), the backend on router A
only, clients on both. The verdict, and why, is docs/operations.md, "Router-to-router links
(rlinks): the verdict"; each test here is one line of it.

Each test asserts what Crossbar 26.10 does. Where it breaks the contract, the test asserts the
break, so that it fails the day Crossbar changes: then update the verdict in docs/operations.md
(and, if the contract holds across links at last, the topology it recommends).

The users named "rider" and "driver" matter: the link hands the backend the caller's role as her
authid (crossbar/worker/rlink.py, on_call's this_forward), so a rider on B is, to the backend,
the user named "rider". For those two users the mix-up changes nothing, which lets the other
tests look past it at what else crosses the link.
"""

from __future__ import annotations

import os
import time

import argon2
import pytest
import pytest_twisted
from argon2 import PasswordHasher
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from twisted.internet import defer, reactor

from components import uris
from taxi_core.db import Database
from taxi_core.services import TaxiService

from ..support.linked_routers import LinkedRouters
from ..support.users import PASSWORD, Users, unique_name
from ..support.wamp import connect, error_of, sleep

pytestmark = pytest.mark.e2e

QUIET = 2.0  # long enough for an event to cross the link, had it been forwarded (it takes milliseconds)
UPDATE_DOCS = "Crossbar's rlinks changed: update docs/operations.md, 'Router-to-router links (rlinks): the verdict'"
NOT_AUTHORIZED = "wamp.error.not_authorized"
RUNTIME_ERROR = "wamp.error.runtime_error"  # what Autobahn makes of the link's RuntimeError
FORWARDED_WITHIN = 30
NO_TRIP = "0" * 32
DEVICE_REMOVED = "taxi.close.device_removed"
PLACE = {"lat": 52.52, "lng": 13.405}


@pytest.fixture(scope="module")
def routers(new_database, tmp_path_factory):
    with new_database("sqlite") as url:
        linked = LinkedRouters(tmp_path_factory.mktemp("rlinks"), url)
        try:
            _sign_up_in_the_database(url)
            pytest_twisted.blockon(defer.ensureDeferred(_procedures_reach_b(linked)))
            yield linked
        finally:
            assert linked.stop() == [0, 0, 0], "a linked router or the backend did not stop cleanly on Ctrl-C"


def _sign_up_in_the_database(url: str) -> None:
    """The users, made by the service itself: through B user.signup fails, through A every other
    time (tests below)."""
    database = Database.from_url(url, pool_size=1)
    try:
        service = TaxiService(database, hasher=PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
        for name, role in (("rider", "rider"), ("driver", "driver"), ("alice", "rider")):
            service.signup(username=name, password=PASSWORD, role=role)
    finally:
        database.dispose()


async def _procedures_reach_b(linked: LinkedRouters) -> None:
    """The backend's procedures reach B one by one, just after the backend registered them on A."""
    deadline = time.monotonic() + FORWARDED_WITHIN
    while True:
        try:
            await (await connect(linked.b.port, authid="rider", ticket=PASSWORD)).close()
            return
        except ApplicationError as refusal:
            if refusal.error != "wamp.error.no_such_procedure" or time.monotonic() > deadline:
                raise
        await sleep(0.2)


@pytest.fixture
def on_a(routers):
    users = Users(routers.a)
    yield users
    pytest_twisted.blockon(users.close())


@pytest.fixture
def on_b(routers):
    users = Users(routers.b)
    yield users
    pytest_twisted.blockon(users.close())


async def login(users: Users, name: str):
    return await users.login({"username": name})


async def outcome(call) -> str | object:
    """A call's result, or the URI of its error."""
    try:
        return await call
    except ApplicationError as error:
        return error.error


# What works: calls reach the backend, logins and the authorizer's exact-match rule hold on B.


@pytest_twisted.ensureDeferred
async def test_a_call_from_a_rider_on_b_reaches_the_backends_registration_on_a(routers, on_a, on_b):
    rider_on_a, rider_on_b = await login(on_a, "rider"), await login(on_b, "rider")
    trip = await rider_on_a.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
    assert trip["nk"] in [t["nk"] for t in await rider_on_b.call(uris.TRIP_LIST)]
    assert (await rider_on_b.call(uris.TRIP_GET, nk=trip["nk"]))["nk"] == trip["nk"]
    await rider_on_b.call(uris.TRIP_CANCEL, nk=trip["nk"])


@pytest_twisted.ensureDeferred
async def test_a_login_on_b_is_checked_by_the_backend_on_a_but_a_refusal_loses_its_words(routers, on_b):
    assert (await login(on_b, "alice")).details.authid == "alice"
    refusal = await error_of(connect(routers.b.port, authid="alice", ticket="not her password"))
    assert refusal.error == "wamp.error.authentication_failed"
    # Not "wrong username or password": the link answers the backend's error with None (rlink.py,
    # on_call), which Crossbar's ticket authenticator refuses as a bad principal.
    assert "invalid return type" in refusal.args[0], UPDATE_DOCS


@pytest_twisted.ensureDeferred
async def test_on_b_only_the_trips_rider_may_subscribe_to_its_topic_and_only_exactly(routers, on_a, on_b):
    rider_on_a = await login(on_a, "rider")
    trip = await rider_on_a.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
    topic = uris.trip_topic(trip["nk"])
    rider_on_b, alice_on_b = await login(on_b, "rider"), await login(on_b, "alice")
    await rider_on_b.events(topic)  # granted: B's router asked the backend's authorizer on A
    assert (await error_of(alice_on_b.events(topic))).error == NOT_AUTHORIZED
    for match, uri in (("prefix", uris.TRIP_TOPIC_PREFIX), ("wildcard", "taxi.trip.")):
        assert (await error_of(rider_on_b.events(uri, match=match))).error == NOT_AUTHORIZED
    await rider_on_b.call(uris.TRIP_CANCEL, nk=trip["nk"])


# What does not: who the caller is, errors, anonymous calls, events, retained events, offers.


@pytest_twisted.ensureDeferred
async def test_the_backend_takes_a_rider_on_b_for_the_user_named_after_her_role(routers, on_b):
    alice_on_b = await login(on_b, "alice")
    trip = await alice_on_b.call(uris.TRIP_REQUEST, pick_up_address="C", drop_off_address="D")
    assert trip["rider"]["username"] == "rider", UPDATE_DOCS
    assert trip["nk"] in [t["nk"] for t in await alice_on_b.call(uris.TRIP_LIST)], UPDATE_DOCS
    await alice_on_b.call(uris.TRIP_CANCEL, nk=trip["nk"])


@pytest_twisted.ensureDeferred
async def test_an_error_of_the_backend_reaches_a_caller_on_b_as_a_null_result(routers, on_b):
    rider_on_b = await login(on_b, "rider")
    for _ in range(2):
        assert await outcome(rider_on_b.call(uris.TRIP_GET, nk=NO_TRIP)) is None, UPDATE_DOCS


@pytest_twisted.ensureDeferred
async def test_a_sign_up_on_b_fails_because_the_router_does_not_disclose_an_anonymous_caller(routers, on_b):
    anonymous = await on_b.anonymous()
    sign_up = anonymous.call(uris.SIGNUP, username=unique_name("rider"), password=PASSWORD, role="rider")
    refusal = await error_of(sign_up)
    assert (refusal.error, refusal.args[0]) == (RUNTIME_ERROR, "Internal error attempting rlink forwarding"), (
        UPDATE_DOCS
    )


@pytest_twisted.ensureDeferred
async def test_calls_on_a_go_round_the_link_too_and_lose_their_caller_or_their_error(routers, on_a):
    # B's link registers back on A what A's link registered on B: one more callee of the backend's
    # shared ("roundrobin") registrations, which A's router takes turns with. A call sent round
    # comes back to A through A's link (the "already forwarded" check never sees forward_for) and
    # reaches the backend with the caller's role as her authid; its error comes back as null.
    alice_on_a = await login(on_a, "alice")
    trips = [
        await alice_on_a.call(uris.TRIP_REQUEST, pick_up_address="E", drop_off_address="F", request_id=f"round-{n}")
        for n in range(2)
    ]
    assert "rider" in [trip["rider"]["username"] for trip in trips], UPDATE_DOCS
    rider_on_a = await login(on_a, "rider")
    answers = [await outcome(rider_on_a.call(uris.TRIP_GET, nk=NO_TRIP)) for _ in range(2)]
    assert None in answers, UPDATE_DOCS
    # An anonymous caller is not disclosed, which the link refuses at once: every other sign-up on A fails.
    anonymous = await on_a.anonymous()
    signups = [
        await outcome(anonymous.call(uris.SIGNUP, username=unique_name("rider"), password=PASSWORD, role="rider"))
        for _ in range(2)
    ]
    refused = [answer for answer in signups if not isinstance(answer, dict)]
    assert refused == [RUNTIME_ERROR], UPDATE_DOCS


@pytest_twisted.ensureDeferred
async def test_a_live_event_published_on_a_never_reaches_the_trips_rider_on_b(routers, on_a, on_b):
    rider_on_a, rider_on_b = await login(on_a, "rider"), await login(on_b, "rider")
    trip = await rider_on_a.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
    topic = uris.trip_topic(trip["nk"])
    on_a_events, on_b_events = await rider_on_a.events(topic), await rider_on_b.events(topic)
    await sleep(QUIET)  # B's link has subscribed on A for B's new subscription
    canceled = await rider_on_a.call(uris.TRIP_CANCEL, nk=trip["nk"])
    assert await on_a_events.next() == canceled
    assert await on_b_events.quiet_for(QUIET) == [], UPDATE_DOCS
    assert "AssertionError" in routers.b.log_text(), UPDATE_DOCS  # rlink.py, on_event: no publisher disclosed


@pytest_twisted.ensureDeferred
async def test_a_subscriber_on_b_asking_for_the_retained_event_gets_nothing(routers, on_a, on_b):
    rider_on_a, rider_on_b = await login(on_a, "rider"), await login(on_b, "rider")
    trip = await rider_on_a.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B")
    topic = uris.trip_topic(trip["nk"])
    assert await (await rider_on_a.events(topic, get_retained=True)).next() == trip
    assert await (await rider_on_b.events(topic, get_retained=True)).quiet_for(QUIET) == [], UPDATE_DOCS
    await rider_on_a.call(uris.TRIP_CANCEL, nk=trip["nk"])


@pytest_twisted.ensureDeferred
async def test_an_offer_on_taxi_drivers_never_reaches_the_offered_driver_on_b(routers, on_a, on_b):
    driver_on_a, driver_on_b = await login(on_a, "driver"), await login(on_b, "driver")
    offers_on_a = await driver_on_a.events(uris.DRIVERS_TOPIC)
    offers_on_b = await driver_on_b.events(uris.DRIVERS_TOPIC)
    await driver_on_b.call(uris.DRIVER_LOCATE, **PLACE)  # through the link: he is available for offers
    await sleep(QUIET)
    rider_on_a = await login(on_a, "rider")
    trip = await rider_on_a.call(uris.TRIP_REQUEST, pick_up_address="A", drop_off_address="B", pick_up_location=PLACE)
    (offered,), offer = await offers_on_a.next()
    assert (offered["nk"], offer["offer"]) == (trip["nk"], "open")
    assert await offers_on_b.quiet_for(QUIET) == [], UPDATE_DOCS
    await rider_on_a.call(uris.TRIP_CANCEL, nk=trip["nk"])
    await driver_on_b.call(uris.DRIVER_OFFLINE)


@pytest_twisted.ensureDeferred
async def test_removing_a_device_ends_its_session_on_a_but_not_on_b(routers, on_a, on_b):
    # The backend hears of device logins from A's wamp.session.on_join and ends them with A's
    # wamp.session.kill; the link forwards nothing under wamp. (rlink.py, on_subscription_create).
    rider_on_b, key = await login(on_b, "rider"), CryptosignKey.from_bytes(os.urandom(32))
    await rider_on_b.call(uris.USER_ADD_DEVICE, public_key=key.public_key())
    phone_on_a = await connect(routers.a.port, authid="rider", key=key)
    phone_on_b = await connect(routers.b.port, authid="rider", key=key)
    on_a.sessions.append(phone_on_a)
    on_b.sessions.append(phone_on_b)
    await sleep(QUIET)  # the backend has written down the logins it heard of
    assert await rider_on_b.call(uris.USER_REMOVE_DEVICE, public_key=key.public_key()) is None
    assert (await phone_on_a.left.addTimeout(QUIET * 5, reactor)).reason == DEVICE_REMOVED
    await sleep(QUIET)
    assert phone_on_b.is_attached(), UPDATE_DOCS
