"""`taxi history NK`: an operator reads a trip's events from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

from taxi.cli import main


def test_the_history_command_prints_one_line_an_event_oldest_first(database_url, service, trip, rider, driver, capsys):
    service.update_trip(driver=driver, nk=trip["nk"], status="STARTED", session_id=4242)
    main(["history", trip["nk"], "--database-url", database_url])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["1", trip["created"], "REQUESTED"]
    assert lines[0].split()[3:] == ["rider", rider]
    assert lines[1].split()[2:] == ["STARTED", "driver", driver, "session", "4242"]


def test_an_unknown_trip_is_one_line_and_exit_status_1(database_url):
    done = subprocess.run(
        [sys.executable, "-m", "taxi.cli", "history", "0" * 32, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"taxi history: no trip {'0' * 32}\n")


def test_the_database_url_comes_from_the_environment_too(database_url, trip, monkeypatch, capsys):
    monkeypatch.setenv("TAXI_DATABASE_URL", database_url)
    main(["history", trip["nk"]])
    assert capsys.readouterr().out.split()[2] == "REQUESTED"

