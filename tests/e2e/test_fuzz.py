"""Hostile clients: every procedure called with whatever hypothesis makes up — wrong types,
huge strings, nested lists and maps, any unicode (lone surrogates included, where the
serializer can carry them), NUL, extra keys, positional arguments, latitudes and longitudes
out of range or not numbers, pick-up locations with keys missing or added — through the real
router, in all four ways of writing WAMP (JSON, JSON with ASCII escapes, msgpack, CBOR).

Every call must be answered, with a result or one of the contract's taxi.error.* (never
taxi.error.internal), whose text gives nothing away; a call left unanswered, a connection
lost, any other error is a crash. The node must keep serving (same backend process, nothing
logged as a failure), and the database hold exactly what the calls that succeeded made.
Each procedure is called by the role it is for, so wamp.error.not_authorized is not
expected (test_authorization_matrix.py asks the other roles). CI makes 1 500 calls per
database, --long 10 000. The calls themselves are drawn in fuzz_calls.py.

How hypothesis and Twisted meet: the @given function runs in a thread of its own, and each
example (a batch of calls) is fired from there into the reactor and awaited
(blockingCallFromThread), so the reactor keeps running and hypothesis keeps its usual
machinery, shrinking included: a failure is reported as the smallest batch that fails.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from twisted.internet import defer, reactor, threads
from twisted.internet.threads import blockingCallFromThread

from components.router_guard import UNPASSABLE
from taxi_core.db import engine_url

from ..support.users import Users
from ..support.wamp import connect
from .fuzz_calls import ROLE, SERIALIZERS, Call, calls

pytestmark = [
    pytest.mark.e2e,
    # Hypothesis notices the global random state moving while it draws, and takes it for its
    # own strategies' doing: it is the reactor, which runs beside it (autobahn's request ids).
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

BATCH = 25
ANSWER_TIMEOUT = 30
CONTRACT_ERRORS = {"taxi.error.invalid_argument", "taxi.error.username_taken", "taxi.error.not_found",
                   "taxi.error.trip_taken", "taxi.error.invalid_transition"}  # fmt: skip
LEAKS = ("SELECT", "INSERT", "UPDATE ", "DELETE ", "Traceback", 'File "', ".py", "sqlalchemy", "psycopg", "sqlite",
         "site-packages", "/tmp/", "/work/", "0x7f")  # fmt: skip
RANK = {"REQUESTED": 0, "STARTED": 1, "IN_PROGRESS": 2, "COMPLETED": 3, "CANCELED": 3, "EXPIRED": 3}


# --- the hostile clients, and what they got ---


@dataclass
class Tally:
    calls: Counter = field(default_factory=Counter)  # serializer -> calls
    results: Counter = field(default_factory=Counter)  # procedure -> results
    errors: Counter = field(default_factory=Counter)  # error URI -> count
    crashes: list = field(default_factory=list)  # (call, what went wrong): unanswered, internal, off-contract
    leaks: list = field(default_factory=list)  # (call, error text)
    signed_up: list = field(default_factory=list)  # users that user.signup returned
    located: set = field(default_factory=set)  # (lat, lng) of every driver.locate that succeeded
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
            if call.procedure == "driver.locate":
                self.located.add((float(call.kwargs["lat"]), float(call.kwargs["lng"])))


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
                "SELECT t.nk, t.status, r.username, d.username, t.pick_up_address, t.drop_off_address,"
                " t.pick_up_lat, t.pick_up_lng"
                " FROM trips t JOIN users r ON r.id = t.rider_id LEFT JOIN users d ON d.id = t.driver_id"
            )).all()  # fmt: skip
            positions = connection.execute(text(
                "SELECT u.username, p.lat, p.lng FROM driver_positions p JOIN users u ON u.id = p.driver_id"
            )).all()  # fmt: skip
    finally:
        engine.dispose()
    return {"users": {tuple(u) for u in users}, "trips": {t[0]: tuple(t) for t in trips},
            "positions": {username: (lat, lng) for username, lat, lng in positions}}  # fmt: skip


def as_row(trip: dict) -> tuple:
    """The trips row `rows` reads, as a trip the service returned says it is."""
    driver = trip["driver"]["username"] if trip["driver"] else None
    where = trip.get("pick_up_location") or {"lat": None, "lng": None}
    return (trip["nk"], trip["status"], trip["rider"]["username"], driver, trip["pick_up_address"],
            trip["drop_off_address"], where["lat"], where["lng"])  # fmt: skip


def settled(row: tuple, expected: tuple) -> bool:
    """The row is as expected, or the dispatcher has since expired the located request (its
    TAXI_REQUEST_TIMEOUT_SECONDS may end while the fuzz runs: no call returns that)."""
    if row == expected:
        return True
    expired = expected[1] == "REQUESTED" and row[1] == "EXPIRED" and row[6] is not None
    return expired and row[:1] + row[2:] == expected[:1] + expected[2:]


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
    # The fuzzing driver is where one of his accepted positions put him (the batch's calls
    # race, so which one is the last committed's), or where he was.
    driver_name = fuzzers.driver["username"]
    fuzzed = (await threads.deferToThread(rows, node.database_url))["positions"].get(driver_name)
    assert fuzzed in tally.located if tally.located else fuzzed == before["positions"].get(driver_name)

    # Still serving, with the same backend process, and nothing logged as a failure.
    assert {p.pid for p in node.backend_processes()} == backends
    assert node.log_count("unexpected failure") + node.log_count("Traceback") == failures_logged
    rider, driver = fuzzers.sessions["rider", "json"], fuzzers.sessions["driver", "json"]
    where = {"lat": 52.52, "lng": 13.41}
    await driver.call("driver.locate", **where)
    located = await rider.call("trip.request", pick_up_address="Located", drop_off_address="After", pick_up_location=where)
    # (offered to him only if no fuzzed accept left him driving: not asserted)
    assert located["pick_up_location"] == where and located["dispatch"]["state"] in ("offering", "searching")
    tally.trip_states[located["nk"]] = await rider.call("trip.cancel", nk=located["nk"])
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
        assert settled(after["trips"][nk], as_row(trip)), (after["trips"][nk], as_row(trip))
    untouched = set(before["trips"]) - set(tally.trip_states)
    changed = {nk: (before["trips"][nk], after["trips"][nk]) for nk in untouched
               if not settled(after["trips"][nk], before["trips"][nk])}  # fmt: skip
    assert changed == {}
    # The fuzzing driver is where he was sent last, and no other driver has moved.
    assert after["positions"][driver_name] == (where["lat"], where["lng"])
    others = {name: where for name, where in after["positions"].items() if name != driver_name}
    assert others == {name: where for name, where in before["positions"].items() if name != driver_name}
