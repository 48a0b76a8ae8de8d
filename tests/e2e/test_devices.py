"""Device keys through the real router: logging in with WAMP-cryptosign (Autobahn's
CryptosignKey signs the router's challenge), and what must never let anyone in — another
user's key, a removed one, an expired one, a replayed or a wrong signature — and removing a
device or changing the password ending the device's sessions at once."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import pytest_twisted
from autobahn.wamp.cryptosign import CryptosignKey
from nacl.signing import SigningKey
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool
from twisted.internet import defer, reactor, threads

from taxi_core.db import engine_url
from taxi_core.models import Device

from ..faults.rawws import RawClient
from ..support.users import PASSWORD, Users
from ..support.wamp import connect, error_of, sleep

pytestmark = pytest.mark.e2e

AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
NOT_AUTHORIZED = "wamp.error.not_authorized"
DEVICE_REMOVED = "taxi.close.device_removed"
REFUSED = ("unknown device key",)
TIMEOUT = 10
HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE = 1, 2, 3, 4, 5


class Device_:
    """A device: its private seed stays here; the router only ever sees the public key."""

    def __init__(self):
        self.seed = os.urandom(32)
        self.key = CryptosignKey.from_bytes(self.seed)
        self.public_key = self.key.public_key()


def login(node, authid, device: Device_, **options):
    d = defer.ensureDeferred(connect(node.port, authid=authid, key=device.key, **options))
    return d.addTimeout(TIMEOUT, reactor)


async def with_device(users: Users, role: str = "rider"):
    """A new user logged in with his password, with one device added: (ticket session, user, device)."""
    session, user = await users.new(role)
    device = Device_()
    await session.call("user.add_device", public_key=device.public_key, name="phone")
    return session, user, device


async def ended(session, timeout: float = TIMEOUT):
    return await _copy(session.left).addTimeout(timeout, reactor)


def _copy(d):
    copy = defer.Deferred()
    d.addBoth(lambda result: (copy.callback(result), result)[1])
    return copy


async def last_used(session, public_key: str):
    """The device's last_used, once the router's news of the latest join has been written."""
    [device] = [d for d in await session.call("user.devices") if d["public_key"] == public_key]
    return device["last_used"]


@pytest.mark.parametrize("role", ["rider", "driver"])
@pytest_twisted.ensureDeferred
async def test_a_user_logs_in_with_a_device_key_as_himself_with_his_role(node, users, role):
    ticket, user, device = await with_device(users, role)
    session = await login(node, f" {user['username']} ", device, authrole="backend")
    users.sessions.append(session)
    details = session.details
    assert (details.authid, details.authrole, details.authmethod) == (user["username"], role, "cryptosign")
    assert await session.call("trip.list") == []
    # Logged in with a key, he may manage his devices as well as with the password.
    assert [d["name"] for d in await session.call("user.devices")] == ["phone"]
    for _ in range(50):
        if await last_used(ticket, device.public_key) is not None:
            break
        await sleep(0.1)
    assert await last_used(ticket, device.public_key) is not None


@pytest_twisted.ensureDeferred
async def test_a_key_of_one_user_cannot_log_in_as_another_nor_an_unknown_key_as_anyone(node, users):
    _, alice, alice_s = await with_device(users)
    _, bob, _ = await with_device(users, "driver")
    refusals = [await error_of(login(node, bob["username"], alice_s)),
                await error_of(login(node, alice["username"], Device_())),
                await error_of(login(node, "nobody-at-all", alice_s))]  # fmt: skip
    assert {(refusal.error, refusal.args) for refusal in refusals} == {(AUTHENTICATION_FAILED, REFUSED)}


@pytest_twisted.ensureDeferred
async def test_a_key_another_user_holds_cannot_be_added_and_a_bad_key_is_an_invalid_argument(node, users):
    _, _, alice_s = await with_device(users)
    bob, _ = await users.new("rider")
    taken = await error_of(bob.call("user.add_device", public_key=alice_s.public_key))
    malformed = await error_of(bob.call("user.add_device", public_key=alice_s.public_key.upper()))
    unknown = await error_of(bob.call("user.remove_device", public_key=alice_s.public_key))
    assert (taken.error, malformed.error, unknown.error) == ("taxi.error.invalid_argument",) * 2 + ("taxi.error.not_found",)
    assert await bob.call("user.devices") == []


@pytest_twisted.ensureDeferred
async def test_a_removed_key_is_refused_and_its_live_sessions_end_at_once(node, users):
    ticket, user, device = await with_device(users)
    phone, tablet = [await login(node, user["username"], device) for _ in range(2)]
    users.sessions += [phone, tablet]
    assert await ticket.call("user.remove_device", public_key=device.public_key) is None
    for session in (phone, tablet):
        assert (await ended(session)).reason == DEVICE_REMOVED
    assert ticket.is_attached()  # the password's session is no device's
    assert await ticket.call("user.devices") == []
    refusal = await error_of(login(node, user["username"], device))
    assert (refusal.error, refusal.args) == (AUTHENTICATION_FAILED, REFUSED)


@pytest_twisted.ensureDeferred
async def test_a_device_session_removing_its_own_device_ends_itself_after_its_answer(node, users):
    _, user, device = await with_device(users)
    session = await login(node, user["username"], device)
    users.sessions.append(session)
    await session.call("user.remove_device", public_key=device.public_key)
    assert (await ended(session)).reason == DEVICE_REMOVED


def raw_login(port: int, authid: str, public_key: str, sign) -> tuple[list, str]:
    """One cryptosign login driven by hand: (the router's last answer, the signature sent).
    `sign(challenge bytes)` -> the hex the client sends back."""
    raw = RawClient(port, timeout=TIMEOUT)
    try:
        raw.handshake()
        raw.send([HELLO, "taxi", {"authmethods": ["cryptosign"], "authid": authid, "authextra": {"pubkey": public_key},
                                  "roles": {"caller": {}}}])  # fmt: skip
        challenge = raw.receive()
        assert challenge[:2] == [CHALLENGE, "cryptosign"], challenge
        signature = sign(bytes.fromhex(challenge[2]["challenge"]))
        raw.send([AUTHENTICATE, signature, {}])
        return raw.receive(), signature
    finally:
        raw.close()


def signed_by(seed: bytes):
    return lambda challenge: SigningKey(seed).sign(challenge).signature.hex() + challenge.hex()


@pytest_twisted.ensureDeferred
async def test_a_replayed_or_wrong_signature_is_refused_and_does_not_refresh_the_device(node, users):
    ticket, user, device = await with_device(users)
    answer, first = await threads.deferToThread(raw_login, node.port, user["username"], device.public_key,
                                                signed_by(device.seed))  # fmt: skip
    assert answer[0] == WELCOME, answer
    for _ in range(50):
        if (used := await last_used(ticket, device.public_key)) is not None:
            break
        await sleep(0.1)
    assert used is not None
    attempts = {
        "replayed": lambda challenge: first,  # a good signature, of the first login's challenge
        "wrong key": signed_by(os.urandom(32)),
        "garbage": lambda challenge: "00" * 96,
    }
    for what, sign in attempts.items():
        answer, _ = await threads.deferToThread(raw_login, node.port, user["username"], device.public_key, sign)
        assert answer[0] == ABORT and answer[2] == NOT_AUTHORIZED, (what, answer)
    await sleep(0.5)  # a join the router told of would have been written by now
    assert await last_used(ticket, device.public_key) == used


@pytest_twisted.ensureDeferred
async def test_an_expired_device_is_refused_and_no_longer_listed(node, users):
    ticket, user, device = await with_device(users)
    # The device's clock moved on by 31 days, in the database: no sleeping on the TTL.
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31)
    engine = create_engine(engine_url(node.database_url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(update(Device).where(Device.public_key == device.public_key)
                               .values(created=long_ago, last_used=long_ago))  # fmt: skip
    finally:
        engine.dispose()
    refusal = await error_of(login(node, user["username"], device))
    assert (refusal.error, refusal.args) == (AUTHENTICATION_FAILED, REFUSED)
    assert await ticket.call("user.devices") == []


@pytest_twisted.ensureDeferred
async def test_changing_the_password_ends_every_device_session_but_the_caller_s(node, users):
    ticket, user, device = await with_device(users)
    other = Device_()
    await ticket.call("user.add_device", public_key=other.public_key)
    phone, caller = await login(node, user["username"], device), await login(node, user["username"], other)
    users.sessions += [phone, caller]
    await sleep(0.5)  # both joins recorded, so that the caller's own is known as his
    assert await caller.call("user.change_password", old_password=PASSWORD, new_password="a brand new one") is None
    assert (await ended(phone)).reason == DEVICE_REMOVED
    assert caller.is_attached() and await caller.call("user.devices") == []
    for key in (device, other):
        assert (await error_of(login(node, user["username"], key))).error == AUTHENTICATION_FAILED
    again = await connect(node.port, authid=user["username"], ticket="a brand new one")
    users.sessions.append(again)
    assert (await error_of(connect(node.port, authid=user["username"], ticket=PASSWORD))).error == AUTHENTICATION_FAILED


@pytest_twisted.ensureDeferred
async def test_wrong_old_passwords_count_as_failed_logins_and_lock_the_account(node, users):
    session, user = await users.new("driver")
    wrong = [await error_of(session.call("user.change_password", old_password=f"guess {n}", new_password="whatever new"))
             for n in range(6)]  # fmt: skip
    assert {(error.error, error.args) for error in wrong} == {("taxi.error.invalid_argument",
                                                               ("old_password is not the password",))}  # fmt: skip
    # The sixth failure locked the account (for a second at first): the right password too is refused now.
    locked = await error_of(session.call("user.change_password", old_password=PASSWORD, new_password="whatever new"))
    assert locked.args == ("too many failed logins; try again later",)
