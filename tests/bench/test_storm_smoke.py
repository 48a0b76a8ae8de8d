"""`taxi bench --storm` keeps working: a storm of 20 drivers, with device keys and then tickets,
end to end (its table and JSON), and the verdict on figures made up to miss each goal.

No figure of the real run is checked against a number but the counts: every driver back and
told of the trip. The seconds and CPU of 20 drivers say nothing of 2,000's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taxi_bench.storm import checks

pytestmark = pytest.mark.bench

TAXI = str(Path(sys.executable).with_name("taxi"))
DRIVERS = 20


@pytest.fixture(scope="module")
def storm_run(tmp_path_factory):
    """One storm of 20 drivers on SQLite, with both logins: (its stdout, its JSON)."""
    out = tmp_path_factory.mktemp("storm")
    result = subprocess.run(
        [TAXI, "bench", "--storm", str(DRIVERS), "--login", "both", "--json", str(out / "storm.json"),
         "--workdir", str(out / "work")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    # The seconds and the CPU ratio are this machine's moment's; the counts are not.
    missed_timing_only = result.returncode == 1 and "every driver back" not in result.stderr
    assert result.returncode == 0 or missed_timing_only, f"{result.stdout}\n{result.stderr}"
    return result.stdout, json.loads((out / "storm.json").read_text())


def test_the_table_has_the_times_to_half_and_all_back_and_the_cpu_for_each_login(storm_run):
    stdout, _ = storm_run
    for line in ("device keys", "tickets", "router listening again", "50 % back", "99 % back", "100 % back",
                 "backend CPU, kill to all back", "a login, ms", "new router worker CPU", "told of a trip"):  # fmt: skip
        assert line in stdout, stdout
    assert "met    device keys: every driver back and told of the trip after the storm" in stdout
    assert "met    tickets: every driver back and told of the trip after the storm" in stdout


def test_the_json_has_every_driver_back_and_told_of_the_trip(storm_run):
    _, document = storm_run
    assert [s["login"] for s in document["storms"]] == ["device", "ticket"]
    for storm in document["storms"]:
        assert storm["drivers"] == storm["back"] == storm["heard_the_trip"] == DRIVERS
        assert 0 < storm["back_50_s"] <= storm["back_99_s"] <= storm["back_100_s"]
        assert storm["router_listening_s"] is not None and storm["backend_cpu_s"] > 0
    assert len(document["checks"]) == 4


def _storm(login: str, last: float | None, cpu_ms: float, back: int = DRIVERS) -> dict:
    return {"login": login, "drivers": DRIVERS, "back": back, "heard_the_trip": back, "back_100_s": last,
            "backend_cpu_ms_per_login": cpu_ms}  # fmt: skip


def test_a_device_storm_slower_than_the_goal_or_costing_more_than_a_tenth_of_tickets_misses():
    met = checks([_storm("device", 14.0, 10.0), _storm("ticket", 40.0, 200.0)])
    assert all(check["met"] for check in met.values())
    slow = checks([_storm("device", 16.0, 10.0), _storm("ticket", 40.0, 200.0)])
    assert not slow["device keys: all back within 15 s"]["met"]
    costly = checks([_storm("device", 14.0, 30.0), _storm("ticket", 40.0, 200.0)])
    assert not costly["device keys: the backend's CPU a login ≤ a tenth of a ticket's"]["met"]
    lost = checks([_storm("device", None, 10.0, back=DRIVERS - 1)])
    assert not lost["device keys: every driver back and told of the trip after the storm"]["met"]
    assert not lost["device keys: all back within 15 s"]["met"]


def test_a_storm_against_a_node_of_someone_elses_is_refused_before_anything_starts(tmp_path):
    command = [TAXI, "bench", "--storm", "10", "--url", "ws://127.0.0.1:1/ws", "--workdir", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "--storm needs neither --url" in result.stderr
    assert not (tmp_path / "run").exists()
