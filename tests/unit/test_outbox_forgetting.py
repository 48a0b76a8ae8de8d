"""The outbox rows of acknowledged events go in batches (components/outbox.py, Forgetting):
ids wait a moment, or until a batch is full, then one job deletes them all; one job at a time."""

from __future__ import annotations

from types import SimpleNamespace

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from components.outbox import Forgetting

DELAY = 0.5


class HeldPool:
    """A pool whose jobs finish when the test says so, remembering what each job was given."""

    def __init__(self):
        self.jobs: list[tuple[list[int], Deferred]] = []

    def run(self, thd, event_ids):
        d = Deferred()
        self.jobs.append((list(event_ids), d))
        return d

    def given(self) -> list[list[int]]:
        return [ids for ids, _ in self.jobs]


def forgetting(batch: int = 10):
    pool, clock = HeldPool(), Clock()
    rows = Forgetting(SimpleNamespace(forget=None), pool, clock, delay=DELAY, batch=batch)
    return rows, pool, clock


def test_acknowledged_ids_wait_the_delay_then_go_in_one_delete():
    rows, pool, clock = forgetting()
    rows.forget([1])
    rows.forget([2, 3])
    clock.advance(DELAY - 0.01)
    assert pool.given() == []
    clock.advance(0.01)
    assert pool.given() == [[1, 2, 3]]


def test_a_full_batch_is_deleted_at_once():
    rows, pool, clock = forgetting(batch=3)
    rows.forget([1, 2])
    rows.forget([3])
    assert pool.given() == [[1, 2, 3]]
    clock.advance(DELAY)
    assert pool.given() == [[1, 2, 3]]  # the timer went with the batch


def test_ids_acknowledged_while_a_delete_runs_wait_for_the_next_one():
    rows, pool, clock = forgetting()
    rows.forget([1])
    clock.advance(DELAY)
    rows.forget([2])
    clock.advance(DELAY)
    assert pool.given() == [[1]]
    pool.jobs[0][1].callback(None)
    clock.advance(DELAY)
    assert pool.given() == [[1], [2]]


def test_each_forget_fires_when_the_job_that_took_its_ids_is_over():
    rows, pool, clock = forgetting()
    fired = []
    rows.forget([1]).addCallback(lambda _: fired.append("first"))
    clock.advance(DELAY)
    rows.forget([2]).addCallback(lambda _: fired.append("second"))
    pool.jobs[0][1].callback(None)
    assert fired == ["first"]
    clock.advance(DELAY)
    pool.jobs[1][1].callback(None)
    assert fired == ["first", "second"]


def test_a_failed_delete_keeps_the_rows_for_the_sweep_and_the_next_delete_still_runs():
    rows, pool, clock = forgetting()
    kept = rows.forget([1])
    clock.advance(DELAY)
    rows.forget([2])
    pool.jobs[0][1].errback(RuntimeError("database is locked"))
    clock.advance(DELAY)
    assert kept.called  # fired, not failed: the sweep publishes what stays
    assert pool.given() == [[1], [2]]
