"""What test_fuzz.py's hostile clients send: for each procedure, the role that may call it and
its arguments, drawn by hypothesis near the valid values or anywhere, in each serializer's
range of what it can carry (the reasons are next to each strategy)."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

import cbor2
import msgpack
from autobahn.wamp import message
from hypothesis import assume
from hypothesis import strategies as st

from ..support.wamp import SERIALIZERS as WIRE_SERIALIZERS

# The router refuses a message over 65 536 bytes by closing the connection (tests/faults/
# test_slow_clients.py shows that); the fuzz stays under it, its huge values included.
MESSAGE_LIMIT = 65_536 - 64
HUGE_BYTES = 58_000
ROLE = {"user.signup": "anonymous", "trip.request": "rider", "trip.update": "driver", "trip.cancel": "rider",
        "trip.get": "rider", "trip.history": "rider", "trip.list": "driver", "trip.available": "driver",
        "driver.locate": "driver", "driver.offline": "driver"}  # fmt: skip
ARGUMENTS = {
    "user.signup": ["username", "password", "role", "first_name", "last_name"],
    "trip.request": ["pick_up_address", "drop_off_address", "request_id", "pick_up_location"],
    "trip.update": ["nk", "status"],
    "trip.cancel": ["nk"],
    "trip.get": ["nk"],
    "trip.history": ["nk"],
    "trip.list": ["active"],
    "trip.available": [],
    "driver.locate": ["lat", "lng"],
    "driver.offline": [],
}
# Names a client might try to slip in: identities, and other procedures' arguments. Not
# "options", which Autobahn's client API takes for its own CallOptions.
SLIPPED_IN = ["rider", "driver", "caller", "authid", "authrole", "user", "id", "status", "nk", "role", "password_hash"]
STATUSES = ["REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED", "EXPIRED"]
# Around one spot some of the time, so that a located request can find the fuzzing driver
# there and be offered to him (TAXI_DISPATCH_MAX_KM is 10).
NEAR = {"lat": (52.50, 52.55), "lng": (13.38, 13.44)}
BOUND = {"lat": 90, "lng": 180}
SERIALIZERS = ["json", "json-ascii", "msgpack", "cbor"]
WIRE = {name: WIRE_SERIALIZERS[name]() for name in SERIALIZERS}
# Tags CBOR leaves to applications: the router keeps them as they are. A registered tag
# with a malformed content (a "rational" that is a string) fails the router's decoding,
# and the router closes that connection, as it does for any malformed message.
UNASSIGNED_CBOR_TAGS = st.integers(60_000, 2**32)


# --- what a hostile client sends ---


def texts(serializer: str, **sizes):
    # Only escaped JSON can carry a lone surrogate; UTF-8 (JSON, msgpack, CBOR) cannot.
    codec = None if serializer == "json-ascii" else "utf-8"
    strings = st.text(st.characters(codec=codec, exclude_categories=()), **sizes)
    if serializer.startswith("json"):
        # In WAMP's JSON a string that starts with NUL is binary, base64 after the NUL; one that
        # is not base64 is a malformed message, and the router closes the connection
        # (test_a_malformed_message_costs_its_sender_the_connection_and_no_one_else_anything).
        strings = strings.filter(lambda string: not string.startswith("\x00"))
    return strings


def wire_size(serializer: str, value: str) -> int:
    if serializer.startswith("json"):
        return len(json.dumps(value, ensure_ascii=serializer == "json-ascii").encode("utf-8", "surrogatepass"))
    return len(value.encode("utf-8"))


def huge(serializer: str):
    """A string of up to HUGE_BYTES on the wire: a short drawn unit, repeated."""

    def fill(unit: str, size: int) -> str:
        return unit * max(1, size // wire_size(serializer, unit))

    return st.builds(fill, texts(serializer, min_size=1, max_size=6), st.integers(1_000, HUGE_BYTES))


def values(serializer: str):
    ints = st.integers(-(2**63), 2**64 - 1) if serializer == "msgpack" else st.integers() | st.integers(2**64, 2**90)
    scalars = st.none() | st.booleans() | ints | st.floats() | texts(serializer, max_size=30) | st.binary(max_size=16)
    if serializer == "cbor":  # types only CBOR has, which the router decodes into Python objects
        scalars |= (st.datetimes(timezones=st.just(dt.timezone.utc)) | st.decimals(allow_nan=False) | st.uuids()
                    | st.builds(cbor2.CBORTag, UNASSIGNED_CBOR_TAGS, st.text(max_size=5)) | st.just(cbor2.undefined)
                    | st.frozensets(st.integers(), max_size=3))  # fmt: skip
    if serializer == "msgpack":
        scalars |= st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8))
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys(serializer), inner, max_size=4), max_leaves=12
    )


def keys(serializer: str):
    return texts(serializer, max_size=12).filter(lambda key: key != "options")


def degrees(name: str):
    """A latitude or longitude: in range, near the fuzzing spot, at the bounds and just past,
    an integer, or no number at all (NaN, infinity, a boolean)."""
    bound = BOUND[name]
    return (st.floats(-bound, bound) | st.floats(*NEAR[name]) | st.integers(-bound, bound)
            | st.sampled_from([bound, -bound, bound + 1e-9, -bound - 1, 2 * bound, math.nan, math.inf, -math.inf,
                               True, False]))  # fmt: skip


def location(serializer: str):
    """pick_up_location: {"lat", "lng"}, or one of them missing, or one key more."""
    both = {"lat": degrees("lat"), "lng": degrees("lng")}
    # The well-formed shape most of the time: a located request must also get its other
    # arguments right to go through, and few would.
    return (st.fixed_dictionaries(both) | st.fixed_dictionaries(both) | st.fixed_dictionaries(both)
            | st.fixed_dictionaries({"lat": degrees("lat")})
            | st.fixed_dictionaries(both, optional={"alt": degrees("lat"), "lat ": degrees("lat")})
            | st.dictionaries(keys(serializer), degrees("lng"), max_size=3))  # fmt: skip


def plausible(name: str, serializer: str, nks: list[str]):
    """Values near the valid ones, so that calls get past the first check and some succeed."""
    words = texts(serializer, min_size=1, max_size=30)
    if name in BOUND:
        return degrees(name)
    if name == "pick_up_location":
        return location(serializer)
    return {
        "username": st.from_regex(r"[\w.@+-]{1,24}", fullmatch=True) | words,
        "password": texts(serializer, min_size=6, max_size=40),
        "role": st.sampled_from(["rider", "driver", "Rider", " driver ", "admin", "backend", "trusted", "anonymous"]),
        "nk": st.sampled_from(nks) | st.from_regex(r"[0-9a-fA-F]{30,34}", fullmatch=True),
        "status": st.sampled_from([*STATUSES, "started", "ACCEPTED", " STARTED"]),
        "active": st.booleans(),
    }.get(name, words)


@dataclass
class Call:
    serializer: str
    procedure: str
    args: list
    kwargs: dict

    def wire_size(self) -> int:
        wamp_call = message.Call(1, self.procedure, args=self.args or None, kwargs=self.kwargs or None)
        return len(WIRE[self.serializer].serialize(wamp_call)[0])

    def sent_text(self) -> str:
        """Everything the client sent, as text: an error may echo it back (that is no leak)."""
        return repr((self.procedure, self.args, self.kwargs))


@st.composite
def calls(draw, nks: list[str]):
    serializer = draw(st.sampled_from(SERIALIZERS))
    procedure = draw(st.sampled_from(list(ARGUMENTS)))
    anything = values(serializer)
    kwargs = {}
    for name in ARGUMENTS[procedure]:
        how = draw(st.sampled_from(["plausible", "plausible", "anything", "absent"]))
        if how != "absent":
            kwargs[name] = draw(plausible(name, serializer, nks) if how == "plausible" else anything)
    if draw(st.integers(0, 3)) == 0:
        extra_keys = st.sampled_from(SLIPPED_IN) | keys(serializer)
        kwargs.update(draw(st.dictionaries(extra_keys, anything, min_size=1, max_size=3)))
    args = draw(st.lists(anything, min_size=1, max_size=3)) if draw(st.integers(0, 5)) == 0 else []
    if draw(st.integers(0, 7)) == 0:  # one huge value at most
        kwargs[draw(st.sampled_from([*ARGUMENTS[procedure], "x"]))] = draw(huge(serializer))
    call = Call(serializer, procedure, args, kwargs)
    assume(call.wire_size() <= MESSAGE_LIMIT)  # (a rare huge value beside big nested ones)
    return call
