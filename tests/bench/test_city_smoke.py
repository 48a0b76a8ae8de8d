"""`taxi bench --city` keeps working: a tiny city end to end against a real node (its own,
on SQLite), and the figures are printed and written. No figure is checked against a number
of time or CPU: these machines are too noisy for that; the counts and the audit are exact."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

TAXI = str(Path(sys.executable).with_name("taxi"))
DRIVERS, RIDERS, TRIPS = 4, 2, 4


@pytest.fixture(scope="module")
def city_run(tmp_path_factory):
    """Drivers who take every offer quickly, in a city small enough that every one of them is
    within the dispatch's reach of every pick-up; a driver weighs one offer at a time, so a
    request that comes while its drivers weigh another passes on, after a short window here.
    The phase of positions only is one reporting period: every driver reports once in it."""
    workdir = tmp_path_factory.mktemp("city")
    result = subprocess.run(
        [TAXI, "bench", "--city", "--drivers", str(DRIVERS), "--riders", str(RIDERS), "--trips", str(TRIPS),
         "--rate", "1", "--positions-seconds", "10", "--accept-probability", "1", "--think-seconds", "0.2",
         "--city-km", "4",
         "--json", str(workdir / "city.json"), "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "TAXI_OFFER_SECONDS": "3"},
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout, json.loads((workdir / "city.json").read_text())


def test_the_table_is_printed(city_run):
    stdout, _ = city_run
    for words in ("completed trips/s", "request → first offer", "request → accepted", "share expired",
                  "router deliveries per trip", "offers reached exactly their batch",
                  "router CPU ms per trip", "router CPU ms per trip, positions paused",
                  "backend CPU ms per position update"):  # fmt: skip
        assert words in stdout, stdout
    assert re.search(r"offers reached exactly their batch +yes: ", stdout), stdout


def test_every_trip_completes_and_every_offer_reached_exactly_its_batch(city_run):
    _, document = city_run
    (point,) = document["points"]
    assert (point["requested"], point["completed"], point["expired"], point["unended"]) == (TRIPS, TRIPS, 0, 0)
    assert point["errors"] == []
    paused = point["paused"]  # the same trips again, the drivers silent
    assert (paused["requested"], paused["completed"], paused["expired"], paused["unended"]) == (TRIPS, TRIPS, 0, 0)
    audit = point["audit"]  # the offers of both
    assert audit["offers_made"] >= 2 * TRIPS and audit["open"] >= audit["offers_made"]
    assert (audit["stray"], audit["missed"], audit["left_open"]) == (0, 0, 0)


def test_the_json_holds_every_figure(city_run):
    _, document = city_run
    (point,) = document["points"]
    assert point["drivers"] == DRIVERS and point["throughput"] > 0
    for latency in ("first_offer_ms", "accept_ms", "request_ms"):
        assert point[latency]["n"] == TRIPS and point[latency]["p99"] >= point[latency]["p50"] > 0
    assert point["deliveries_per_trip"]["drivers"] > 0 and point["deliveries_per_trip"]["riders"] > 0
    assert point["positions"]["updates"] == pytest.approx(DRIVERS, abs=1)  # one each, give or take a slot
    for process in ("router", "backend", "bench"):
        assert process in point["cpu_ms_per_trip"] and process in point["cpu_ms_per_trip_net"]
        assert process in point["paused"]["cpu_ms_per_trip"] and process in point["paused"]["idle_cpu_percent"]
    assert {"router", "backend"} <= set(point["positions"]["cpu_ms_per_update"])
    assert point["loadavg"][0].count(" ") == 4  # /proc/loadavg's line, as it was
    assert document["rate"] == 1 and document["trips"] == TRIPS


def test_an_impossible_city_is_refused_before_anything_starts(tmp_path):
    result = subprocess.run([TAXI, "bench", "--city", "--accept-probability", "2", "--workdir", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and "--accept-probability must be in [0, 1]" in result.stderr
    assert not (tmp_path / "run").exists()
