"""What only a hostile client's own bytes can do: values the router can read but not pass on,
messages it cannot read at all, and WAMP features the contract does not offer.

test_fuzz.py throws everything at every procedure; these are the cases it found, kept as
named regressions. (A message over 64 KiB: tests/faults/test_slow_clients.py.)
"""

import datetime as dt
import decimal

import cbor2
import pytest
import pytest_twisted
from autobahn.wamp import message
from autobahn.wamp.request import CallRequest
from twisted.internet import defer, reactor

from ..support.users import PASSWORD, Users
from ..support.wamp import connect, error_of

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 10
INVALID = "taxi.error.invalid_argument"
# Crossbar's dealer raised on these while encoding the call for the backend (msgpack), and the
# caller waited forever; components/router_guard.py answers them.
UNPASSABLE = {
    "lone_surrogate": ("json-ascii", {"pick_up_address": "\ud800"}),
    "lone_surrogate_key": ("json-ascii", {"\udc80": "x"}),
    "json_int_past_64_bits": ("json", {"pick_up_address": 2**70}),
    "cbor_big_int": ("cbor", {"pick_up_address": -(2**70)}),
    "cbor_date": ("cbor", {"pick_up_address": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}),
    "cbor_decimal": ("cbor", {"pick_up_address": decimal.Decimal("1.5")}),
    "cbor_tag": ("cbor", {"pick_up_address": cbor2.CBORTag(60_001, "A")}),
    "cbor_undefined": ("cbor", {"pick_up_address": cbor2.undefined}),
    "cbor_set": ("cbor", {"pick_up_address": frozenset({1, 2})}),
}


def nested(depth: int):
    value = "A"
    for _ in range(depth):
        value = [value]
    return value


# Messages the router cannot read: it closes the sender's connection, as for any protocol error.
MALFORMED = {
    # WAMP's JSON carries binary as NUL + base64; a NUL-led string that is no base64 is malformed.
    "json_nul_led_string": ("json", {"pick_up_address": "\x00é"}),
    "cbor_nested_500_deep": ("cbor", {"pick_up_address": nested(500)}),
}


@pytest_twisted.async_yield_fixture(scope="module")
async def rider(node):
    users = Users(node)
    user = await users.signup("rider")
    yield user, users
    await users.close()


def call_within(session, procedure: str, *args, **kwargs):
    return session.call(procedure, *args, **kwargs).addTimeout(ANSWER_TIMEOUT, reactor)


@pytest.mark.parametrize("case", list(UNPASSABLE))
@pytest_twisted.ensureDeferred
async def test_an_argument_the_router_cannot_pass_on_is_answered_not_left_hanging(rider, case):
    user, users = rider
    serializer, arguments = UNPASSABLE[case]
    session = await users.login(user, serializer=serializer)
    trips = await call_within(session, "trip.list")
    error = await error_of(call_within(session, "trip.request", **{"drop_off_address": "B", **arguments}))
    assert (error.error, error.args) == (INVALID, ("an argument is of a type or value the procedure cannot take",))
    assert await call_within(session, "trip.list") == trips  # the session is fine, and nothing was made


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest_twisted.ensureDeferred
async def test_a_malformed_message_costs_its_sender_the_connection_and_no_one_else_anything(node, rider, case):
    user, users = rider
    serializer, arguments = MALFORMED[case]
    bystander = await users.login(user)
    backends = {p.pid for p in node.backend_processes()}
    sender = await connect(node.port, authid=user["username"], ticket=PASSWORD, serializer=serializer)
    attempt = sender.call("trip.request", drop_off_address="B", **arguments)
    attempt.addErrback(lambda failure: None)  # the connection goes, and the call with it
    await sender.left.addTimeout(ANSWER_TIMEOUT, reactor)
    assert isinstance(await call_within(bystander, "trip.list"), list)
    assert {p.pid for p in node.backend_processes()} == backends


@pytest_twisted.ensureDeferred
async def test_an_end_to_end_encrypted_call_is_refused_at_once_without_a_word_about_the_inside(rider):
    """WAMP's payload transparency (the router passes an opaque payload on) is not in the contract:
    Autobahn in the backend holds no key and says so; nothing else is told."""
    user, users = rider
    session = await users.login(user, serializer="msgpack")
    request = session._request_id_gen.next()
    answer = defer.Deferred()
    session._call_reqs[request] = CallRequest(request, "trip.list", answer, {})
    opaque = message.Call(request, "trip.list", payload=b"\x01junk", enc_algo="cryptobox", enc_key="k", enc_serializer="json")
    session._transport.send(opaque)
    error = await error_of(answer.addTimeout(ANSWER_TIMEOUT, reactor))
    assert (error.error, error.args) == ("wamp.error.no_payload_codec", ("received encrypted INVOCATION payload, but no keyring active",))
    assert isinstance(await call_within(session, "trip.list"), list)
