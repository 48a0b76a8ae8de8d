"""The city's figures from a ledger and the phases' CPU: what a trip costs net of the position
updates, the goal's ratio, the tables and the sweep's plot."""

from __future__ import annotations

import pytest

from taxi_bench.city import figures
from taxi_bench.city.ledger import Delivery, Ledger
from taxi_bench.plot import plot_city_sweep

pytestmark = pytest.mark.bench


def resources(router: float, backend: float, seconds: float) -> dict:
    cpu = {"router": router, "backend": backend, "bench": 1.0}
    return {"cpu_seconds": cpu, "cpu_percent": {k: 100 * v / seconds for k, v in cpu.items()}, "rss_mb": {}}


def city_point(drivers=100, trips_router=3.0):
    ledger = Ledger("t")
    for n, outcome in enumerate(["COMPLETED"] * 9 + ["EXPIRED"]):
        trip = ledger.trip(f"nk{n}")
        trip.requested_at, trip.result_at, trip.first_offer_at = 10.0, 10.01, 10.02
        trip.accepted_at = 12.0 if outcome == "COMPLETED" else None
        ledger.end(f"nk{n}", outcome, 13.0)
        ledger.deliveries.append(Delivery("d", f"nk{n}", 1, "open", 1))
    ledger.locate_seconds, ledger.tick_lag_seconds = [0.002] * 10, [0.001] * 10
    positions = figures.phase(20.0, 200, resources(router=0.2, backend=0.4, seconds=20.0))  # 1 ms, 2 ms an update
    trips = figures.phase(10.0, 100, resources(router=trips_router, backend=1.0, seconds=10.0))
    return figures.figures(ledger, drivers, positions, trips, audit=None)


def test_a_trip_costs_what_its_phase_cost_less_the_position_updates_at_their_measured_price():
    f = city_point()
    assert f["positions"]["cpu_ms_per_update"]["backend"] == pytest.approx(2.0)
    assert f["cpu_ms_per_trip"]["router"] == pytest.approx(3000 / 9)  # 9 completed trips
    assert f["cpu_ms_per_trip_net"]["router"] == pytest.approx((3000 - 100 * 1.0) / 9)
    assert f["cpu_ms_per_trip_net"]["backend"] == pytest.approx((1000 - 100 * 2.0) / 9)


def test_the_trips_figures():
    f = city_point()
    assert (f["requested"], f["completed"], f["expired"], f["share_expired"]) == (10, 9, 1, 0.1)
    assert f["first_offer_ms"]["p50"] == pytest.approx(20.0)
    assert f["accept_ms"]["n"] == 9 and f["accept_ms"]["p99"] == pytest.approx(2000.0)
    assert f["deliveries_per_trip"]["drivers"] == 1.0
    assert f["throughput"] == pytest.approx(0.9)
    assert not f["bench"]["limited"]


def test_the_goal_compares_router_cpu_per_trip_at_the_most_drivers_with_the_fewest():
    growth = figures.growth([city_point(100, 3.0), city_point(3000, 4.0)])
    assert growth["net"] == pytest.approx(3900 / 2900) and growth["met"]
    assert not figures.growth([city_point(100, 3.0), city_point(3000, 6.0)])["met"]


def test_the_tables_name_every_figure():
    text = figures.table(city_point())
    for words in ("share expired", "request → first offer", "request → accepted", "router deliveries per trip",
                  "offers reached exactly their batch", "router CPU ms per trip", "backend CPU ms per position update",
                  "bench CPU"):  # fmt: skip
        assert words in text
    assert "3000" in figures.sweep_table([city_point(100), city_point(3000)])


def test_the_city_sweep_plot_is_drawn(tmp_path):
    plot_city_sweep([city_point(100), city_point(1000), city_point(3000)], str(tmp_path / "city.png"), "test")
    assert (tmp_path / "city.png").read_bytes().startswith(b"\x89PNG")
