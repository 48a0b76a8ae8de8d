"""A fault for the tests only: the backend kills itself between a commit and its publication.

Not a feature: no deployment sets TAXI_TEST_CRASH_BEFORE_PUBLISH; tests/faults/
test_crash_before_publish.py does. It exists because that moment (the change committed, its
events not yet sent) is the one the outbox is for (components/outbox.py), and a kill -9 from
outside lands in it only by luck: a window of microseconds between a pool job's end and a
publish. Unset, make_backend hands the trip procedures the Publisher itself, so it costs nothing.

TAXI_TEST_CRASH_BEFORE_PUBLISH="after=N,times=K,tally=FILE": each backend process SIGKILLs
itself right before publishing the events of its N-th committed change (a call that made
events; a retry that made none does not count), until FILE tells of K such crashes. Read once
when the backend starts, so every backend `taxi run` restarts crashes again, K in all, and the
ones after run on. Each crash first appends to FILE one JSON line: the pid and the events
(nk, seq) it left unpublished, so the test knows what only the outbox can still deliver.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from twisted.logger import Logger

VARIABLE = "TAXI_TEST_CRASH_BEFORE_PUBLISH"
log = Logger(namespace="components.backend")


@dataclass(frozen=True)
class CrashPlan:
    after: int
    times: int
    tally: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> CrashPlan | None:
        value = environ.get(VARIABLE)
        if not value:
            return None
        try:
            fields = dict(part.split("=", 1) for part in value.split(","))
            plan = cls(int(fields["after"]), int(fields["times"]), Path(fields["tally"]))
        except (KeyError, ValueError) as error:
            raise ValueError(f"{VARIABLE}={value!r}: expected after=N,times=K,tally=FILE ({error})") from None
        if plan.after < 1:
            raise ValueError(f"{VARIABLE}: after must be at least 1, not {plan.after}")
        return plan

    def crashes(self) -> list[dict]:
        """The crashes so far, one a line of the tally."""
        if not self.tally.exists():
            return []
        return [json.loads(line) for line in self.tally.read_text().splitlines() if line.strip()]

    def record(self, publications) -> None:
        line = json.dumps({"pid": os.getpid(), "events": [[p.nk, p.seq] for p in publications]})
        with open(self.tally, "a") as tally:
            tally.write(line + "\n")
            tally.flush()
            os.fsync(tally.fileno())  # the process dies right after: the test must still read it


def crashing_before_publish(publisher, environ: Mapping[str, str]):
    """What the trip procedures publish through: ``publisher`` itself, unless the variable asks
    this process to crash (and the tally does not yet hold its K crashes)."""
    plan = CrashPlan.from_environ(environ)
    if plan is None or len(plan.crashes()) >= plan.times:
        return publisher
    return _CrashingPublisher(publisher, plan)


class _CrashingPublisher:
    def __init__(self, publisher, plan: CrashPlan):
        self._publisher = publisher
        self._plan = plan
        self._changes = 0

    def publish(self, session, publications):
        if publications:
            self._changes += 1
            if self._changes == self._plan.after:
                self._crash(publications)
        return self._publisher.publish(session, publications)

    def _crash(self, publications) -> None:
        # The tally's few bytes are written on the reactor thread: it is the process's last act.
        self._plan.record(publications)
        log.warn(
            "{variable}: killing this backend before it publishes {n} event(s)", variable=VARIABLE, n=len(publications)
        )
        os.kill(os.getpid(), signal.SIGKILL)
