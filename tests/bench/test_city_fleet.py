"""The city's drivers as the bench plays them, on a clock the tests move: positions spread over
the reporting period, offers weighed one at a time, taken after the think-time, let go when
they close. Their sessions here only record what the drivers call; the smoke run
(test_city_smoke.py) plays them against a real node."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from twisted.internet import defer, task

from components import uris
from taxi_bench.city.drivers import REPORT_EVERY, TICK, Fleet
from taxi_bench.city.ledger import Ledger
from taxi_bench.city.model import Behaviour, City

pytestmark = pytest.mark.bench

TAG = "city-test"


class RecordingSession:
    """What a driver's session is to the fleet: calls (answered at once) and one subscription."""

    def __init__(self, clock):
        self.clock, self.calls, self.handler = clock, [], None

    def call(self, procedure, **kwargs):
        self.calls.append((self.clock.seconds(), procedure, kwargs))
        return defer.succeed(None)

    def subscribe(self, handler, topic):
        assert topic == uris.DRIVERS_TOPIC
        self.handler = handler
        return defer.succeed(None)

    def steps(self) -> list:
        return [kwargs["status"] for _, procedure, kwargs in self.calls if procedure == uris.TRIP_UPDATE]

    def is_attached(self):
        return False


def fleet_of(n: int, behaviour: Behaviour = Behaviour(accept_probability=1.0, think_seconds=2.0)):
    clock = task.Clock()
    ledger = Ledger(TAG)
    fleet = Fleet(clock, ledger, City(), behaviour, random.Random(8), clock=clock.seconds)
    sessions = {}

    def connect(name):
        sessions[name] = RecordingSession(clock)
        return defer.succeed(sessions[name])

    logged_in = defer.ensureDeferred(fleet.log_in([f"driver-{k}" for k in range(n)], connect, Progress()))
    assert logged_in.called and len(fleet.drivers) == n
    return clock, ledger, fleet, list(sessions.values())


class Progress:
    def update(self, n):
        pass


def offer(session, nk="a", kind="open", round_=1, seq=1):
    trip = {"nk": nk, "seq": seq, "pick_up_address": f"{TAG} request", "dispatch": {"round": round_}}
    session.handler(trip, offer=kind, expires="2030-01-01T00:00:00+00:00")


def locates(session) -> list:
    return [at for at, procedure, _ in session.calls if procedure == uris.DRIVER_LOCATE]


def test_every_driver_reports_once_a_period_and_not_all_at_once():
    clock, ledger, fleet, sessions = fleet_of(200)
    fleet.start_reporting()
    clock.pump([TICK] * round(2 * REPORT_EVERY / TICK - 1))
    assert all(len(locates(s)) == 2 for s in sessions)
    assert all(b - a == pytest.approx(REPORT_EVERY, abs=1.01 * TICK) for a, b in (locates(s) for s in sessions))
    busiest_tick = max(Counter(at for s in sessions for at in locates(s)).values())
    assert busiest_tick <= 10  # 200 drivers over 100 slots: a couple a tick, never a crowd
    assert ledger.locates == 400


def test_ticks_the_reactor_was_late_for_still_report_their_drivers():
    clock, ledger, fleet, sessions = fleet_of(50)
    fleet.start_reporting()
    clock.advance(REPORT_EVERY - TICK / 2)  # one late tick for a whole period
    assert all(len(locates(s)) == 1 for s in sessions)
    assert max(ledger.tick_lag_seconds) == pytest.approx(REPORT_EVERY - TICK * 1.5)  # the first slot, one tick in


def test_positions_are_in_the_city_and_change_as_he_drives():
    clock, _, fleet, (session,) = fleet_of(1)
    fleet.start_reporting()
    clock.pump([TICK] * round(3 * REPORT_EVERY / TICK))
    places = [(kw["lat"], kw["lng"]) for _, procedure, kw in session.calls if procedure == uris.DRIVER_LOCATE]
    assert len(set(places)) == len(places) == 3


def test_a_driver_takes_an_offer_after_thinking_and_drives_it_through():
    clock, ledger, _, (session,) = fleet_of(1)
    offer(session)
    assert session.steps() == []
    clock.advance(Behaviour().think_max_seconds)
    assert session.steps() == ["STARTED", "IN_PROGRESS", "COMPLETED"]
    assert ledger.trips["a"].accepted_at is not None and ledger.trips["a"].first_offer_at == 0


def test_a_driver_lets_go_of_an_offer_that_closes_while_he_thinks():
    clock, _, _, (session,) = fleet_of(1)
    offer(session)
    offer(session, kind="closed", seq=2)
    clock.advance(Behaviour().think_max_seconds)
    assert session.steps() == []


def test_a_driver_weighs_one_offer_at_a_time():
    clock, _, _, (session,) = fleet_of(1)
    offer(session, "a")
    offer(session, "b")
    clock.advance(Behaviour().think_max_seconds)
    assert [kw["nk"] for _, p, kw in session.calls if p == uris.TRIP_UPDATE] == ["a"] * 3


def test_after_letting_one_go_he_may_take_the_next_and_the_first_does_not_end_his_trip():
    clock, _, fleet, (session,) = fleet_of(1, Behaviour(accept_probability=1.0, think_seconds=5.0, think_spread=1e-9))
    offer(session, "a")
    offer(session, "a", kind="closed", seq=2)
    clock.advance(1)
    offer(session, "b")
    clock.advance(4.5)  # a's think-time is over: he has moved on to b
    assert session.steps() == []
    clock.advance(1)
    assert session.steps() == ["STARTED", "IN_PROGRESS", "COMPLETED"]
    assert fleet.drivers[0].available


def test_a_driver_who_never_takes_offers_only_receives_them():
    clock, ledger, _, (session,) = fleet_of(1, Behaviour(accept_probability=0.0))
    offer(session)
    clock.advance(60)
    assert session.steps() == [] and len(ledger.deliveries) == 1


def test_someone_elses_trip_on_a_shared_node_is_not_counted():
    _, ledger, _, (session,) = fleet_of(1)
    session.handler({"nk": "x", "seq": 1, "pick_up_address": "elsewhere", "dispatch": None}, offer="open")
    assert ledger.deliveries == [] and ledger.trips == {}
