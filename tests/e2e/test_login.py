"""Signing up and logging in on the public port: who gets in, and as what.

A session's role is the one its user signed up with, whatever role the client asks for;
a wrong password and an unknown user are one and the same refusal.
"""

import pytest
import pytest_twisted
from twisted.internet import defer, reactor

from ..support.users import PASSWORD, Users, unique_name
from ..support.wamp import connect, error_of

pytestmark = pytest.mark.e2e

AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
LOGIN_TIMEOUT = 10


def login(node, authid, ticket, **options):
    """connect(), but a login that hangs fails the test instead of the whole run."""
    d = defer.ensureDeferred(connect(node.port, authid=authid, ticket=ticket, **options))
    return d.addTimeout(LOGIN_TIMEOUT, reactor)


@pytest_twisted.async_yield_fixture(scope="module")
async def members(node):
    """A rider and a driver, signed up once for the module: {"rider": user, "driver": user}."""
    users = Users(node)
    rider, driver = await defer.gatherResults([defer.ensureDeferred(users.signup(r)) for r in ("rider", "driver")])
    yield {"rider": rider, "driver": driver}
    await users.close()


@pytest_twisted.ensureDeferred
async def test_a_wrong_password_and_an_unknown_user_are_refused_alike(node, users):
    # Her own account, and fewer failures than the login throttle lets pass before it locks.
    username = (await users.signup("rider"))["username"]
    attempts = {
        "wrong password": login(node, username, PASSWORD + "!"),
        "unknown user": login(node, unique_name("nobody"), PASSWORD),
        "empty password": login(node, username, ""),
        "over-long password": login(node, username, "x" * 300),
        "empty username": login(node, "", PASSWORD),
    }
    refusals = {what: await error_of(attempt) for what, attempt in attempts.items()}
    assert {what: error.error for what, error in refusals.items()} == dict.fromkeys(attempts, AUTHENTICATION_FAILED)
    messages = {str(error.args) for error in refusals.values()}
    assert len(messages) == 1, refusals
    assert username not in messages.pop()


@pytest.mark.parametrize("asked", ["backend", "trusted", "rider", "driver", "anonymous"])
@pytest.mark.parametrize("role", ["rider", "driver"])
@pytest_twisted.ensureDeferred
async def test_a_user_gets_the_role_she_signed_up_with_whatever_role_she_asks_for(node, members, role, asked):
    user = members[role]
    session = await login(node, user["username"], PASSWORD, authrole=asked)
    try:
        assert (session.details.authid, session.details.authrole) == (user["username"], role)
        # ... and the router treats her as such: no backend procedure is hers to call.
        refused = await error_of(session.call("taxi.auth.authenticate", "taxi", user["username"], {}))
        assert refused.error == "wamp.error.not_authorized"
    finally:
        session.leave()


@pytest.mark.parametrize("asked", ["backend", "trusted"])
@pytest_twisted.ensureDeferred
async def test_asking_for_a_privileged_role_with_a_wrong_password_is_refused_at_once(node, members, asked):
    refused = await error_of(login(node, members["rider"]["username"], "wrong password", authrole=asked))
    assert refused.error == AUTHENTICATION_FAILED


@pytest.mark.parametrize("asked", ["backend", "trusted", "rider"])
@pytest_twisted.ensureDeferred
async def test_an_anonymous_session_stays_anonymous_whatever_role_it_asks_for(node, asked):
    session = await connect(node.port, authrole=asked)
    try:
        assert session.details.authrole == "anonymous"
        assert (await error_of(session.call("trip.list"))).error == "wamp.error.not_authorized"
    finally:
        session.leave()


@pytest_twisted.ensureDeferred
async def test_anonymous_can_sign_up_and_a_taken_username_is_refused(users):
    anonymous = await users.anonymous()
    assert anonymous.details.authrole == "anonymous"
    username = unique_name("ann")
    user = await anonymous.call(
        "user.signup", username=username, password=PASSWORD, role="rider", first_name="Ann", last_name="Lee"
    )
    assert set(user) == {"id", "username", "first_name", "last_name", "role"}  # never a password or its hash
    assert (user["username"], user["first_name"], user["last_name"], user["role"]) == (username, "Ann", "Lee", "rider")

    taken = await error_of(anonymous.call("user.signup", username=username, password="another password", role="driver"))
    assert taken.error == "taxi.error.username_taken"
    # The first sign-up stands: her own password, her own role.
    session = await users.login(user)
    assert (session.details.authid, session.details.authrole) == (username, "rider")
    assert (await error_of(login(users.node, username, "another password"))).error == AUTHENTICATION_FAILED


@pytest_twisted.ensureDeferred
async def test_of_sign_ups_racing_for_one_username_exactly_one_wins(users):
    username = unique_name("race")
    sessions = [await users.anonymous() for _ in range(5)]
    results = await defer.DeferredList(
        [s.call("user.signup", username=username, password=PASSWORD, role="rider") for s in sessions],
        consumeErrors=True,
    )
    winners = [value for ok, value in results if ok]
    losers = [failure.value.error for ok, failure in results if not ok]
    assert len(winners) == 1 and winners[0]["username"] == username
    assert losers == ["taxi.error.username_taken"] * 4


@pytest_twisted.ensureDeferred
async def test_a_user_signed_up_as_driver_logs_in_as_driver(users):
    driver_user = await users.signup("driver", first_name="Dee", last_name="Ray")
    assert (driver_user["role"], driver_user["first_name"], driver_user["last_name"]) == ("driver", "Dee", "Ray")
    driver = await users.login(driver_user)
    assert (driver.details.authid, driver.details.authrole) == (driver_user["username"], "driver")
    assert isinstance(await driver.call("trip.available"), list)


@pytest.mark.parametrize("serializer", ["json", "msgpack", "cbor"])
@pytest_twisted.ensureDeferred
async def test_every_serializer_can_log_in_call_and_follow_a_trip(users, members, serializer):
    rider = await users.login(members["rider"], serializer=serializer)
    driver = await users.login(members["driver"], serializer=serializer)
    assert (rider.details.authrole, driver.details.authrole) == ("rider", "driver")
    alerts = await driver.events("taxi.drivers")
    trip = await rider.call("trip.request", pick_up_address=f"{serializer} street", drop_off_address="B ✓")
    assert trip["drop_off_address"] == "B ✓"
    assert await alerts.next() == trip
    events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
    assert await events.next() == trip
    accepted = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    assert await events.next() == accepted
    assert await rider.call("trip.get", nk=trip["nk"]) == accepted
    assert (await error_of(rider.call("trip.get", nk="nope"))).error == "taxi.error.invalid_argument"
