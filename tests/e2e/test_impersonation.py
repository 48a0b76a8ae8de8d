"""Impersonation: no client on the public port gets in as anyone but itself, nor as more than
its own role — not by asking for the backend or trusted role, not with another user's name,
not with the backend's own credential (its ticket, or a backend key the router lists for its
TCP backend port), not with another user's device key (WAMP-cryptosign), not with an
authentication method the port does not offer, not by putting an identity into a call's arguments.

test_login.py has the first cases (one's own password, any role asked for); this module runs
the rest on a node of its own, whose backend ticket the tests know, because its many failed
logins lock the peer (all tests come from 127.0.0.1) for minutes.
"""

import itertools
import os
from collections import Counter

import pytest
import pytest_twisted
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions, RegisterOptions
from twisted.internet import defer, reactor

from taxi.keygen import write_key_pair
from taxi_core.backend_keys import read_private_key

from ..support.node import Node
from ..support.users import PASSWORD, Users, unique_name
from ..support.wamp import connect, connect_backend, error_of

pytestmark = pytest.mark.e2e

AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
NOT_AUTHORIZED = "wamp.error.not_authorized"
ALICE_S_PASSWORD = "alice's own secret"
LOGIN_TIMEOUT = 15


@pytest.fixture(scope="module")
def impostors_node(new_database, tmp_path_factory):
    with new_database("sqlite") as url:
        # It also lists a backend key for the TCP backend port, which the public port must not take.
        workdir = tmp_path_factory.mktemp("impostors")
        public = write_key_pair(str(workdir / "backend.key"))
        node = Node(url, workdir, separate=True, environment={"TAXI_BACKEND_KEYS": public})
        node.listed_backend_key = read_private_key(str(workdir / "backend.key"))
        try:
            node.wait_until_serving()
            yield node
        finally:
            node.stop()


@pytest_twisted.async_yield_fixture(scope="module")
async def people(impostors_node):
    """Alice (a rider, the impostor), Bob (a driver), and riders who took the names "backend" and "trusted"."""
    users = Users(impostors_node)
    anonymous = await users.anonymous()
    # Alice's password is hers alone: everyone else has the suite's PASSWORD.
    alice = await anonymous.call("user.signup", username=unique_name("alice"), password=ALICE_S_PASSWORD, role="rider")
    bob = await users.signup("driver")
    named = {name: await anonymous.call("user.signup", username=name, password=PASSWORD, role="rider")
             for name in ("backend", "trusted")}  # fmt: skip
    yield {"alice": alice, "bob": bob, **named}
    await users.close()


def login(node, authid, ticket, **options):
    d = defer.ensureDeferred(connect(node.port, authid=authid, ticket=ticket, **options))
    return d.addTimeout(LOGIN_TIMEOUT, reactor)


async def may_do_backend_things(session) -> bool:
    """Whether the session may do anything only the backend may: register or publish."""
    attempts = [
        lambda: session.register(lambda: None, "trip.request", options=RegisterOptions(force_reregister=True)),
        lambda: session.publish("taxi.drivers", {}, options=PublishOptions(acknowledge=True)),
        lambda: session.call("taxi.auth.authenticate", "taxi", "alice", {}),
    ]
    for attempt in (make() for make in attempts):
        try:
            await attempt
        except ApplicationError as error:
            if error.error != NOT_AUTHORIZED:
                return True  # the router let it through to somebody
        else:
            return True
    return False


async def try_every_login(grid, attempt, admitted: dict, admitted_label: str) -> Counter:
    """Tries `attempt(authid, credential, role asked)` for every case of `grid`. The (authid,
    credential) pairs in `admitted` get in with exactly those session details, and may do nothing a
    backend does; every other case is refused as a failed authentication. Returns the tally."""
    outcomes = Counter()
    for authid, credential, asked in grid:
        pending = attempt(authid, credential, asked)
        expected = admitted.get((authid, credential))
        if expected is not None:
            session = await pending
            assert {name: getattr(session.details, name) for name in expected} == expected
            assert not await may_do_backend_things(session)
            session.leave()
            outcomes[admitted_label] += 1
            continue
        try:
            refusal = await error_of(pending)
        except AssertionError as let_in:
            raise AssertionError(f"let in: authid {authid!r}, {credential!r}, role asked {asked!r}") from let_in
        assert refusal.error == AUTHENTICATION_FAILED, (authid, credential, asked, refusal)
        outcomes["refused"] += 1
    return outcomes


@pytest_twisted.ensureDeferred
async def test_users_named_like_the_privileged_roles_are_riders_like_any_other(impostors_node, people):
    for name in ("backend", "trusted"):
        for asked in (None, "backend", "trusted"):
            session = await login(impostors_node, name, PASSWORD, authrole=asked)
            assert (session.details.authid, session.details.authrole) == (name, "rider")
            assert not await may_do_backend_things(session)
            session.leave()


@pytest_twisted.ensureDeferred
async def test_an_anonymous_session_naming_a_user_is_not_that_user(impostors_node, people):
    for asked in (None, "rider", "backend"):
        session = await connect(impostors_node.port, authid=people["alice"]["username"], authrole=asked)
        assert session.details.authrole == "anonymous"
        assert session.details.authid != people["alice"]["username"]
        assert (await error_of(session.call("trip.list"))).error == NOT_AUTHORIZED
        session.leave()


@pytest.mark.parametrize("method", ["wampcra", "scram", "cookie", "tls", "made-up"])
@pytest_twisted.ensureDeferred
async def test_no_other_authentication_method_is_offered_on_the_public_port(impostors_node, method):
    attempt = login(impostors_node, "backend", impostors_node.backend_ticket, authrole="backend", authmethods=[method])
    refusal = await error_of(attempt)
    assert refusal.error in {"wamp.error.no_auth_method", NOT_AUTHORIZED, AUTHENTICATION_FAILED}, refusal


@pytest_twisted.ensureDeferred
async def test_an_identity_put_into_a_call_s_arguments_is_not_the_caller_s(impostors_node, people):
    alice = await login(impostors_node, people["alice"]["username"], ALICE_S_PASSWORD)
    bob = people["bob"]["username"]
    refused = await error_of(alice.call("trip.request", pick_up_address="A", drop_off_address="B", rider=bob))
    assert refused.error == "taxi.error.invalid_argument"
    # Autobahn hands the router's caller disclosure to the backend under the keyword "details",
    # over whatever the client sent under that name: ignored, never believed.
    forged = {"caller_authid": bob, "caller_authrole": "driver", "caller": 1}
    trip = await alice.call("trip.request", pick_up_address="A", drop_off_address="B", details=forged)
    assert trip["rider"]["username"] == people["alice"]["username"]
    alice.leave()


@pytest_twisted.ensureDeferred
async def test_spaces_around_a_username_do_not_buy_more_guesses_at_it(impostors_node):
    users = Users(impostors_node)
    victim = (await users.signup("rider"))["username"]
    spaces = [" ", "  ", "\t", "\n", "\r", "\u00a0", "\u3000", " \t "]
    variants = [victim, *(f"{space}{victim}" for space in spaces), f"{victim} "]
    for variant in variants:  # twice the guesses the account is allowed, each under another spelling
        assert (await error_of(login(impostors_node, variant, "wrong password"))).error == AUTHENTICATION_FAILED
    refusal = await error_of(login(impostors_node, victim, PASSWORD))
    assert "too many failed logins" in refusal.args[0]
    await users.close()


@pytest_twisted.ensureDeferred
async def test_the_backend_s_ticket_makes_a_backend_only_on_the_backend_s_own_socket(impostors_node):
    backend = await connect_backend(impostors_node.backend_socket, impostors_node.backend_ticket)
    assert (backend.details.authid, backend.details.authrole) == ("backend", "backend")
    backend.leave()
    # ... and on the public port it is just a wrong password (the grid below tries it every way).
    refusal = await error_of(login(impostors_node, "backend", impostors_node.backend_ticket, authrole="backend"))
    assert refusal.error == AUTHENTICATION_FAILED


@pytest_twisted.ensureDeferred
async def test_alice_s_device_key_gets_her_in_as_herself_a_rider_and_no_key_gets_anyone_in_otherwise(
    impostors_node, people, figure
):
    """Every authid she might claim x her own key, Bob's and a stranger's x every role she might ask for."""
    alice, bob = people["alice"]["username"], people["bob"]["username"]
    keys = {"alice's key": CryptosignKey.from_bytes(os.urandom(32)), "bob's key": CryptosignKey.from_bytes(os.urandom(32)),
            "a stranger's key": CryptosignKey.from_bytes(os.urandom(32))}  # fmt: skip
    for owner, key in ((alice, keys["alice's key"]), (bob, keys["bob's key"])):
        session = await login(impostors_node, owner, ALICE_S_PASSWORD if owner == alice else PASSWORD)
        await session.call("user.add_device", public_key=key.public_key())
        session.leave()
    authids = {"alice": alice, "bob": bob, "Alice": alice.capitalize(), "backend": "backend", "trusted": "trusted",
               "anonymous": "anonymous"}  # fmt: skip
    admitted = {("alice", "alice's key"): {"authid": alice, "authrole": "rider", "authmethod": "cryptosign"},
                ("bob", "bob's key"): {"authid": bob, "authrole": "driver", "authmethod": "cryptosign"}}  # fmt: skip

    def attempt(authid, key, asked):
        pending = defer.ensureDeferred(connect(impostors_node.port, authid=authids[authid], key=keys[key], authrole=asked))
        return pending.addTimeout(LOGIN_TIMEOUT, reactor)

    outcomes = await try_every_login(
        itertools.product(authids, keys, ASKED_ROLES), attempt, admitted, "in as the key's own user, in that user's role"
    )
    figure(f"{sum(outcomes.values())} cryptosign logins ({len(authids)} authids x {len(keys)} keys x "
           f"{len(ASKED_ROLES)} roles asked): {dict(outcomes)}; as another user, backend or trusted: 0")  # fmt: skip


@pytest.mark.parametrize("asked", [None, "backend", "trusted"])
@pytest_twisted.ensureDeferred
async def test_a_backend_key_the_router_lists_makes_no_backend_on_the_public_port(impostors_node, asked):
    attempt = defer.ensureDeferred(
        connect(impostors_node.port, key=impostors_node.listed_backend_key, authid="backend", authrole=asked)
    ).addTimeout(LOGIN_TIMEOUT, reactor)
    try:
        session = await attempt
    except ApplicationError as refused:  # the public port takes no backend key
        assert refused.error in {"wamp.error.no_auth_method", NOT_AUTHORIZED, AUTHENTICATION_FAILED}, refused
    else:  # should the public port take device keys one day: still never as the backend, nor trusted
        assert session.details.authrole not in {"backend", "trusted"}, session.details
        assert not await may_do_backend_things(session)
        await session.close()


# Last in the module: its hundred-odd failed logins lock the peer for minutes.
AUTHIDS = ["alice", "bob", "backend", "trusted", "anonymous", "Alice"]
TICKETS = ["alice's password", "the backend's ticket", "backend", "trusted", ""]
ASKED_ROLES = [None, "backend", "trusted", "rider", "driver", "anonymous"]


@pytest_twisted.ensureDeferred
async def test_alice_gets_in_as_herself_a_rider_and_in_no_other_way(impostors_node, people, figure):
    """Every authid she might claim x every ticket she might hold x every role she might ask for."""
    alice = people["alice"]["username"]
    authids = {"alice": alice, "bob": people["bob"]["username"], "Alice": alice.capitalize(),
               "backend": "backend", "trusted": "trusted", "anonymous": "anonymous"}  # fmt: skip
    tickets = {"alice's password": ALICE_S_PASSWORD, "the backend's ticket": impostors_node.backend_ticket,
               "backend": "backend", "trusted": "trusted", "": ""}  # fmt: skip
    grid = sorted(itertools.product(AUTHIDS, TICKETS, ASKED_ROLES), key=lambda c: c[:2] != ("alice", "alice's password"))
    admitted = {("alice", "alice's password"): {"authid": alice, "authrole": "rider"}}

    def attempt(authid, ticket, asked):
        return login(impostors_node, authids[authid], tickets[ticket], authrole=asked)

    outcomes = await try_every_login(grid, attempt, admitted, "in as herself, a rider")
    figure(f"{len(grid)} logins ({len(AUTHIDS)} authids x {len(TICKETS)} tickets x {len(ASKED_ROLES)} roles asked): "
           f"{dict(outcomes)}; as another user, backend or trusted: 0")  # fmt: skip

