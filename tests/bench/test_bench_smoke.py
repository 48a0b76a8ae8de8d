"""`taxi bench` keeps working: a tiny run end to end, the stub's answers, the sweep's plot; and
when it cannot run, it says why on the terminal.

No figure is checked against a number: these machines are too noisy for timed assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taxi.ports import free_port
from taxi_bench.plot import plot_sweep
from taxi_bench.stub import MemoryService

pytestmark = pytest.mark.bench

TAXI = str(Path(sys.executable).with_name("taxi"))
DRIVERS, RIDERS, TRIPS = 3, 2, 2
LATENCIES = ("request_ms", "last_driver_alert_ms", "rider_alert_ms")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """One tiny run on SQLite, the floor's and taxi's: (its stdout, its JSON). Fewer trips than
    the default number of rounds, which must just work."""
    workdir = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [TAXI, "bench", "--drivers", str(DRIVERS), "--riders", str(RIDERS), "--trips", str(TRIPS),
         "--json", str(workdir / "bench.json"), "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return result.stdout, json.loads((workdir / "bench.json").read_text())


def test_the_table_shows_floor_taxi_and_their_ratio(bench_run):
    stdout, _ = bench_run
    assert "floor" in stdout and "taxi÷floor" in stdout
    assert "completed trips/s" in stdout and "(c) accept call → rider alerted" in stdout


@pytest.mark.parametrize("side", ["floor", "taxi"])
def test_every_trip_completes_and_every_driver_is_alerted(bench_run, side):
    _, document = bench_run
    (point,) = document["points"]
    figures = point[side]
    assert point["drivers"] == DRIVERS
    assert figures["completed_trips"] == RIDERS * TRIPS
    assert figures["errors"] == []
    # Each trip reaches every driver twice: when it is requested, and when it is taken.
    assert figures["alerts"] == {"expected": 2 * RIDERS * TRIPS * DRIVERS, "delivered": 2 * RIDERS * TRIPS * DRIVERS}


@pytest.mark.parametrize("side", ["floor", "taxi"])
def test_the_json_holds_every_figure(bench_run, side):
    _, document = bench_run
    figures = document["points"][0][side]
    assert figures["throughput"] > 0
    for latency in LATENCIES:
        assert set(figures[latency]) >= {"p50", "p95", "p99"}
        assert figures[latency]["n"] == RIDERS * TRIPS
    for process in ("router", "backend"):
        assert process in figures["cpu_percent"] and process in figures["rss_mb"]
        assert process in figures["cpu_ms_per_trip"]
    assert "idle_driver_session_kb" in figures


def test_a_run_of_fewer_trips_than_rounds_makes_one_round_a_trip(bench_run):
    stdout, document = bench_run
    assert document["rounds"] == TRIPS
    assert f"T={TRIPS} trips in {TRIPS} rounds" in stdout


def test_the_json_holds_the_ratios_and_the_targets(bench_run):
    _, document = bench_run
    point = document["points"][0]
    assert {"throughput", "request_ms.p99", "last_driver_alert_ms.p99", "rider_alert_ms.p99"} <= set(point["ratios"])
    assert {"throughput", "request_ms.p99", "idle_driver_session_kb"} <= set(point["targets"])
    assert document["machine"]["cpus"] >= 1


def test_the_stub_answers_in_the_shape_taxi_does(service, clock):
    """The floor is only a floor if its payloads are taxi's: the same keys, kinds and sizes of value."""
    stub = MemoryService(clock=clock)
    answers = []
    for backend in (service, stub):
        rider = backend.signup(username="rosa", password="correct horse", role="rider")
        driver = backend.signup(username="dan", password="correct horse", role="driver")
        trip = backend.request_trip(rider="rosa", pick_up_address="1 Main St", drop_off_address="2 Elm St").trip
        accepted = backend.update_trip(driver="dan", nk=trip["nk"], status="STARTED").trip
        answers.append((rider, driver, trip, accepted))
    for taxi_answer, stub_answer in zip(*answers):
        assert _shape(stub_answer) == _shape(taxi_answer)


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, str):
        return ("str", len(value))
    return type(value).__name__


def test_the_sweep_plot_is_drawn(tmp_path):
    latencies = {name: {"p50": 1.0, "p95": 2.0, "p99": 3.0} for name in LATENCIES}
    points = [{"drivers": d, "floor": latencies, "taxi": latencies} for d in (10, 100, 1000)]
    plot_sweep(points, str(tmp_path / "sweep.png"), "test")
    assert (tmp_path / "sweep.png").read_bytes().startswith(b"\x89PNG")


def taxi_bench(*args: str, without: str | None = None) -> subprocess.CompletedProcess:
    """`taxi bench ARGS`; `without`: a module made unimportable first, as if it were not
    installed (None in sys.modules is Python's own way to stop an import)."""
    hide = f"sys.modules[{without!r}] = None; " if without else ""
    command = [sys.executable, "-c", f"import sys; {hide}from taxi.cli import main; main()", "bench", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_without_the_bench_extra_it_says_in_one_line_how_to_install_it(tmp_path):
    result = taxi_bench("--trips", "5", "--workdir", str(tmp_path / "run"), without="tqdm")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "taxi bench needs the bench extra (tqdm is missing): "
        "pip install 'taxi[bench]' (in a clone of taxi: pip install -e '.[bench]')"
    ]
    assert not (tmp_path / "run").exists()  # refused before it started anything


def test_more_rounds_than_trips_are_refused_before_anything_starts(tmp_path):
    result = taxi_bench("--trips", "2", "--rounds", "3", "--workdir", str(tmp_path / "run"))
    assert result.returncode == 1 and "--rounds at most --trips" in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_database_taxi_cannot_use_is_the_launchers_one_line(tmp_path):
    nobody_listens = f"postgresql://postgres@127.0.0.1:{free_port()}/taxi"
    result = taxi_bench("--drivers", "1", "--riders", "1", "--trips", "1", "--database-url", nobody_listens,
                        "--workdir", str(tmp_path))  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("taxi bench: cannot connect to postgresql://") and "Connection refused" in last


def test_a_failure_during_the_run_is_reported_on_the_terminal_with_its_reason(tmp_path):
    nobody_listens = f"ws://127.0.0.1:{free_port()}/ws"
    result = taxi_bench("--drivers", "1", "--riders", "1", "--trips", "1", "--url", nobody_listens,
                        "--workdir", str(tmp_path))  # fmt: skip
    assert result.returncode == 1
    assert "taxi bench failed: ConnectionRefusedError" in result.stderr, result.stderr
    assert f"the traceback is in {tmp_path / 'bench.log'}" in result.stderr
    assert "Traceback" in (tmp_path / "bench.log").read_text()
