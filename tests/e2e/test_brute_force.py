"""Guessing passwords over the wire is slowed per account and per peer, and tells nothing."""

import time

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError

from ..support.users import PASSWORD, Users
from ..support.wamp import connect, sleep

pytestmark = pytest.mark.e2e

ACCOUNT_FREE_FAILURES = 5
PEER_FREE_FAILURES = 50


async def refusal(port, username, ticket) -> str:
    with pytest.raises(ApplicationError) as refused:
        await connect(port, authid=username, ticket=ticket)
    assert refused.value.error == "wamp.error.authentication_failed"
    return refused.value.args[0]


@pytest_twisted.ensureDeferred
async def test_repeated_wrong_passwords_lock_the_account_while_others_still_log_in(own_node):
    users = Users(own_node)
    victim, bystander = await users.signup("rider"), await users.signup("driver")
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert await refusal(own_node.port, victim["username"], "guess guess") == "wrong username or password"
    await refusal(own_node.port, victim["username"], "guess guess")  # this one starts the lock
    # Locked: even the right password is refused for now, and quickly (no hash is computed).
    started = time.monotonic()
    assert "too many failed logins" in await refusal(own_node.port, victim["username"], PASSWORD)
    print(f"\nlocked account refused in {1000 * (time.monotonic() - started):.1f} ms")
    started = time.monotonic()
    session = await users.login(bystander)
    print(f"another user logged in meanwhile in {1000 * (time.monotonic() - started):.1f} ms")
    assert session.details.authrole == "driver"
    await sleep(1.2)  # the first lock lasts one second
    assert (await users.login(victim)).details.authid == victim["username"]
    await users.close()


@pytest_twisted.ensureDeferred
async def test_an_unknown_user_is_locked_out_just_like_a_known_one(own_node):
    for _ in range(ACCOUNT_FREE_FAILURES + 1):
        await refusal(own_node.port, "nobody_at_all", "guess guess")
    assert "too many failed logins" in await refusal(own_node.port, "nobody_at_all", "guess guess")


@pytest_twisted.ensureDeferred
async def test_guesses_spread_over_many_accounts_lock_the_peer(own_node):
    users = Users(own_node)
    user = await users.signup("rider")
    for n in range(PEER_FREE_FAILURES + 1):
        await refusal(own_node.port, f"someone{n}", "guess guess")
    assert "too many failed logins" in await refusal(own_node.port, user["username"], PASSWORD)
