"""The fault tests' crash hook (components/crash_before_publish.py): off unless asked, loud when
asked wrongly, and when on, the N-th change that made events is the one that never gets published.
The crash itself, in a real backend under load, is tests/faults/test_crash_before_publish.py's."""

from __future__ import annotations

import json
import signal

import pytest

from components import crash_before_publish
from components.crash_before_publish import VARIABLE, crashing_before_publish
from taxi_core.events import Publication


class Recording:
    def __init__(self):
        self.published = []

    def publish(self, session, publications):
        self.published.append(list(publications))


def events(nk: str, *seqs: int) -> list[Publication]:
    return [Publication(seq, nk, seq, {"nk": nk, "seq": seq, "status": "REQUESTED"}) for seq in seqs]


def test_unset_the_trip_procedures_get_the_publisher_itself():
    publisher = Recording()
    assert crashing_before_publish(publisher, {}) is publisher
    assert crashing_before_publish(publisher, {VARIABLE: ""}) is publisher


@pytest.mark.parametrize("value", ["3", "after=3,times=2", "after=x,times=2,tally=/t", "after=0,times=1,tally=/t"])
def test_a_malformed_setting_stops_the_backend_at_start(value):
    with pytest.raises(ValueError, match=VARIABLE):
        crashing_before_publish(Recording(), {VARIABLE: value})


def test_once_the_tally_holds_its_crashes_a_backend_runs_on(tmp_path):
    tally = tmp_path / "crashes.jsonl"
    tally.write_text('{"pid": 1, "events": []}\n{"pid": 2, "events": []}\n')
    publisher = Recording()
    assert crashing_before_publish(publisher, {VARIABLE: f"after=1,times=2,tally={tally}"}) is publisher


def test_the_nth_change_with_events_is_tallied_and_killed_before_it_is_published(tmp_path, monkeypatch):
    tally = tmp_path / "crashes.jsonl"
    killed = []
    # A kill that lets the test live on to look.
    monkeypatch.setattr(crash_before_publish.os, "kill", lambda pid, signum: killed.append(signum))
    publisher = Recording()
    crashing = crashing_before_publish(publisher, {VARIABLE: f"after=2,times=1,tally={tally}"})
    crashing.publish(None, events("a", 1))
    crashing.publish(None, [])  # a retried request: no events, no change of its own
    assert killed == []
    crashing.publish(None, events("b", 1, 2))
    assert killed == [signal.SIGKILL]
    assert json.loads(tally.read_text())["events"] == [["b", 1], ["b", 2]]
    assert publisher.published[:2] == [events("a", 1), []]
