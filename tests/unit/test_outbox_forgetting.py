"""The outbox rows of acknowledged events go in batches: one delete job at a time, the next
taking every id acknowledged meanwhile (components/outbox.py, Forgetting)."""

from __future__ import annotations

from types import SimpleNamespace

from twisted.internet.defer import Deferred

from components.outbox import Forgetting


class HeldPool:
    """A pool whose jobs finish when the test says so, remembering what each job was given."""

    def __init__(self):
        self.jobs: list[tuple[list[int], Deferred]] = []

    def run(self, thd, event_ids):
        d = Deferred()
        self.jobs.append((list(event_ids), d))
        return d


def forgetting():
    pool = HeldPool()
    return Forgetting(outbox=SimpleNamespace(forget=None), pool=pool), pool


def test_an_idle_forget_deletes_its_rows_at_once():
    rows, pool = forgetting()
    rows.forget([1, 2])
    assert [ids for ids, _ in pool.jobs] == [[1, 2]]


def test_ids_acknowledged_while_a_delete_runs_go_together_in_the_next_one():
    rows, pool = forgetting()
    rows.forget([1])
    rows.forget([2])
    rows.forget([3, 4])
    assert [ids for ids, _ in pool.jobs] == [[1]]
    pool.jobs[0][1].callback(None)
    assert [ids for ids, _ in pool.jobs] == [[1], [2, 3, 4]]


def test_each_forget_fires_when_the_job_that_took_its_ids_is_over():
    rows, pool = forgetting()
    first, second = rows.forget([1]), rows.forget([2])
    fired = []
    first.addCallback(lambda _: fired.append("first"))
    second.addCallback(lambda _: fired.append("second"))
    pool.jobs[0][1].callback(None)
    assert fired == ["first"]
    pool.jobs[1][1].callback(None)
    assert fired == ["first", "second"]


def test_a_failed_delete_keeps_the_rows_for_the_sweep_and_the_next_forget_still_runs():
    rows, pool = forgetting()
    kept = rows.forget([1])
    rows.forget([2])
    pool.jobs[0][1].errback(RuntimeError("database is locked"))
    assert kept.called  # fired, not failed: the sweep publishes what stays
    assert [ids for ids, _ in pool.jobs] == [[1], [2]]
