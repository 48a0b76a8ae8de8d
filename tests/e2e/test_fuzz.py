"""Hostile clients: every procedure called with whatever hypothesis makes up — wrong types,
huge strings, nested lists and maps, any unicode (lone surrogates included, where the
serializer can carry them), NUL, extra keys, positional arguments — through the real router,
in all four ways of writing WAMP (JSON, JSON with ASCII escapes, msgpack, CBOR).

Every call must be answered, with a result or one of the contract's taxi.error.* (never
taxi.error.internal), whose text gives nothing away; a call left unanswered, a connection
lost, any other error is a crash. The node must keep serving (same backend process, nothing
logged as a failure), and the database hold exactly what the calls that succeeded made.
Each procedure is called by the role it is for, so wamp.error.not_authorized is not
expected (test_authorization_matrix.py asks the other roles). CI makes 1 500 calls per
database, --long 10 000.

How hypothesis and Twisted meet: the @given function runs in a thread of its own, and each
example (a batch of calls) is fired from there into the reactor and awaited
(blockingCallFromThread), so the reactor keeps running and hypothesis keeps its usual
machinery, shrinking included: a failure is reported as the smallest batch that fails.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field

import cbor2
import msgpack
import pytest
import pytest_twisted
from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from twisted.internet import defer, reactor, threads
from twisted.internet.threads import blockingCallFromThread

from components.router_guard import UNPASSABLE
from taxi_core.db import engine_url

from ..support.users import Users
from ..support.wamp import SERIALIZERS as WIRE_SERIALIZERS
from ..support.wamp import connect

pytestmark = [
    pytest.mark.e2e,
    # Hypothesis notices the global random state moving while it draws, and takes it for its
    # own strategies' doing: it is the reactor, which runs beside it (autobahn's request ids).
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

BATCH = 25
ANSWER_TIMEOUT = 30
# The router refuses a message over 65 536 bytes by closing the connection (tests/faults/
# test_slow_clients.py shows that); the fuzz stays under it, its huge values included.
MESSAGE_LIMIT = 65_536 - 64
HUGE_BYTES = 58_000
ROLE = {"user.signup": "anonymous", "trip.request": "rider", "trip.update": "driver", "trip.cancel": "rider",
        "trip.get": "rider", "trip.history": "rider", "trip.list": "driver", "trip.available": "driver"}  # fmt: skip
ARGUMENTS = {
    "user.signup": ["username", "password", "role", "first_name", "last_name"],
    "trip.request": ["pick_up_address", "drop_off_address", "request_id"],
    "trip.update": ["nk", "status"],
    "trip.cancel": ["nk"],
    "trip.get": ["nk"],
    "trip.history": ["nk"],
    "trip.list": ["active"],
    "trip.available": [],
}
# Names a client might try to slip in: identities, and other procedures' arguments. Not
# "options", which Autobahn's client API takes for its own CallOptions.
SLIPPED_IN = ["rider", "driver", "caller", "authid", "authrole", "user", "id", "status", "nk", "role", "password_hash"]
CONTRACT_ERRORS = {"taxi.error.invalid_argument", "taxi.error.username_taken", "taxi.error.not_found",
                   "taxi.error.trip_taken", "taxi.error.invalid_transition"}  # fmt: skip
LEAKS = ("SELECT", "INSERT", "UPDATE ", "DELETE ", "Traceback", 'File "', ".py", "sqlalchemy", "psycopg", "sqlite",
         "site-packages", "/tmp/", "/work/", "0x7f")  # fmt: skip
STATUSES = ["REQUESTED", "STARTED", "IN_PROGRESS", "COMPLETED", "CANCELED"]
RANK = {"REQUESTED": 0, "STARTED": 1, "IN_PROGRESS": 2, "COMPLETED": 3, "CANCELED": 3}
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


def plausible(name: str, serializer: str, nks: list[str]):
    """Values near the valid ones, so that calls get past the first check and some succeed."""
    words = texts(serializer, min_size=1, max_size=30)
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


# --- the hostile clients, and what they got ---


@dataclass
class Tally:
    calls: Counter = field(default_factory=Counter)  # serializer -> calls
    results: Counter = field(default_factory=Counter)  # procedure -> results
    errors: Counter = field(default_factory=Counter)  # error URI -> count
    crashes: list = field(default_factory=list)  # (call, what went wrong): unanswered, internal, off-contract
    leaks: list = field(default_factory=list)  # (call, error text)
    signed_up: list = field(default_factory=list)  # users that user.signup returned
    trip_states: dict = field(default_factory=dict)  # nk -> furthest trip returned by any call

    def __str__(self):
        return (f"{sum(self.calls.values())} calls {dict(self.calls)}: results {sum(self.results.values())} "
                f"{dict(self.results)}, errors {dict(self.errors)}, crashes {len(self.crashes)}, leaks {len(self.leaks)}")  # fmt: skip

    def record(self, call: Call, outcome) -> None:
        self.calls[call.serializer] += 1
        if isinstance(outcome, ApplicationError):
            self.errors[outcome.error + (" (router guard)" if outcome.args == (UNPASSABLE,) else "")] += 1
            if outcome.error not in CONTRACT_ERRORS:
                self.crashes.append((call, outcome))
            said = " ".join(map(str, (*outcome.args, outcome.kwargs)))
            sent = call.sent_text()
            if [leak for leak in LEAKS if leak in said and leak not in sent]:
                self.leaks.append((call, said))
        elif isinstance(outcome, Exception):
            self.crashes.append((call, outcome))  # no answer in time, or the connection went
        else:
            self.results[call.procedure] += 1
            trips = outcome if isinstance(outcome, list) else [outcome]
            for trip in trips:
                if isinstance(trip, dict) and "nk" in trip:
                    known = self.trip_states.get(trip["nk"])
                    if known is None or RANK[trip["status"]] > RANK[known["status"]]:
                        self.trip_states[trip["nk"]] = trip
            if call.procedure == "user.signup":
                self.signed_up.append(outcome)


@dataclass
class Fuzzers:
    sessions: dict  # (role, serializer) -> Client
    nks: list  # the fuzzing rider's trips at the start, for plausible keys
    rider: dict
    driver: dict

    def all_attached(self) -> bool:
        return all(session.is_attached() for session in self.sessions.values())

    async def fire(self, batch: list[Call]) -> list:
        """Sends the whole batch before awaiting any answer: each call's outcome, in order."""

        async def one(call: Call):
            session = self.sessions[ROLE[call.procedure], call.serializer]
            try:
                return await session.call(call.procedure, *call.args, **call.kwargs).addTimeout(ANSWER_TIMEOUT, reactor)
            except Exception as error:  # an ApplicationError, or no answer at all
                return error

        return await defer.gatherResults([defer.ensureDeferred(one(call)) for call in batch])


@pytest_twisted.async_yield_fixture(scope="module")
async def fuzzers(node):
    users = Users(node)
    (rider_session, rider), (_, driver) = await users.new("rider"), await users.new("driver")
    sessions = {}
    for serializer in SERIALIZERS:
        sessions["anonymous", serializer] = await connect(node.port, serializer=serializer)
        sessions["rider", serializer] = await users.login(rider, serializer=serializer)
        sessions["driver", serializer] = await users.login(driver, serializer=serializer)
    trips = [await rider_session.call("trip.request", pick_up_address=f"A{i}", drop_off_address="B") for i in range(8)]
    yield Fuzzers(sessions, [trip["nk"] for trip in trips], rider, driver)
    for session in sessions.values():
        if session.is_attached():
            session.leave()
    await users.close()


def rows(database_url: str) -> dict:
    engine = create_engine(engine_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            users = connection.execute(text("SELECT username, role, first_name, last_name FROM users")).all()
            trips = connection.execute(text(
                "SELECT t.nk, t.status, r.username, d.username, t.pick_up_address, t.drop_off_address"
                " FROM trips t JOIN users r ON r.id = t.rider_id LEFT JOIN users d ON d.id = t.driver_id"
            )).all()  # fmt: skip
    finally:
        engine.dispose()
    return {"users": {tuple(u) for u in users}, "trips": {t[0]: tuple(t) for t in trips}}


@pytest.fixture
def fuzz_calls(long_run) -> int:
    return 10_000 if long_run else 1_500


@pytest_twisted.ensureDeferred
async def test_no_argument_a_client_can_send_crashes_leaks_or_corrupts(node, fuzzers, fuzz_calls, figure):
    before = rows(node.database_url)
    backends = {p.pid for p in node.backend_processes()}
    failures_logged = node.log_count("unexpected failure") + node.log_count("Traceback")
    tally = Tally()

    @settings(max_examples=fuzz_calls // BATCH, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(calls(fuzzers.nks), min_size=BATCH, max_size=BATCH))
    def fuzz(batch):
        if not fuzzers.all_attached():
            return  # a lost connection fails every later call: asserted below, not shrunk on
        outcomes = blockingCallFromThread(reactor, lambda: defer.ensureDeferred(fuzzers.fire(batch)))
        crashes, leaks = len(tally.crashes), len(tally.leaks)
        for call, outcome in zip(batch, outcomes):
            tally.record(call, outcome)
        if fuzzers.all_attached():
            assert tally.crashes[crashes:] == [], "\n".join(map(repr, tally.crashes[crashes:]))
            assert tally.leaks[leaks:] == [], "\n".join(map(repr, tally.leaks[leaks:]))

    await threads.deferToThread(fuzz)
    figure(str(tally))
    assert fuzzers.all_attached(), tally.crashes[:3]
    assert sum(tally.calls.values()) >= fuzz_calls

    # Still serving, with the same backend process, and nothing logged as a failure.
    assert {p.pid for p in node.backend_processes()} == backends
    assert node.log_count("unexpected failure") + node.log_count("Traceback") == failures_logged
    rider, driver = fuzzers.sessions["rider", "json"], fuzzers.sessions["driver", "json"]
    trip = await rider.call("trip.request", pick_up_address="After", drop_off_address="Fuzzing")
    accepted = await driver.call("trip.update", nk=trip["nk"], status="STARTED")
    assert await rider.call("trip.get", nk=trip["nk"]) == accepted
    tally.trip_states[trip["nk"]] = accepted

    # The database holds what the successful calls made, and nothing else.
    after = rows(node.database_url)
    made = {(u["username"], u["role"], u["first_name"], u["last_name"]) for u in tally.signed_up}
    assert after["users"] - before["users"] == made
    assert set(after["trips"]) - set(before["trips"]) == set(tally.trip_states) - set(before["trips"])
    for nk, trip in tally.trip_states.items():
        driver = trip["driver"]["username"] if trip["driver"] else None
        expected = (nk, trip["status"], trip["rider"]["username"], driver, trip["pick_up_address"], trip["drop_off_address"])
        assert after["trips"][nk] == expected
    untouched = set(before["trips"]) - set(tally.trip_states)
    assert {nk: after["trips"][nk] for nk in untouched} == {nk: before["trips"][nk] for nk in untouched}
