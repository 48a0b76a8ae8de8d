"""Slows password guessing: after repeated failures, a key (an account, or a peer address)
is refused outright for a while that doubles with every further failure.

Failures are counted per account and per peer separately, so an attacker spreading guesses
over many accounts from one address is caught by the peer, and one spread over many
addresses by the account. Unknown usernames are counted just like known ones, so the
throttle tells an attacker nothing about which accounts exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Hashable

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures allowed before the key is locked at all
    first_lock: dt.timedelta
    longest_lock: dt.timedelta
    forget_after: dt.timedelta  # a key with no failure for this long starts afresh


ACCOUNT_POLICY = Policy(5, dt.timedelta(seconds=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15))
# Many honest users can share one address (an office, a carrier's NAT): a peer gets more room.
PEER_POLICY = Policy(50, dt.timedelta(seconds=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15))
MAX_TRACKED_KEYS = 100_000


@dataclass
class _Record:
    failures: int
    last_failure: dt.datetime
    locked_until: dt.datetime


class LoginThrottle:
    def __init__(self, policy: Policy, clock: Clock):
        self._policy = policy
        self._clock = clock
        self._records: dict[Hashable, _Record] = {}

    def is_locked(self, key: Hashable) -> bool:
        record = self._records.get(key)
        return record is not None and self._clock() < record.locked_until

    def failed(self, key: Hashable) -> None:
        now = self._clock()
        record = self._records.get(key)
        if record is None or now - record.last_failure > self._policy.forget_after:
            self._forget_stale(now)
            record = self._records[key] = _Record(0, now, now)
        record.failures += 1
        record.last_failure = now
        over = record.failures - self._policy.free_failures
        if over > 0:
            lock = min(self._policy.first_lock * 2 ** min(over - 1, 32), self._policy.longest_lock)
            record.locked_until = now + lock

    def succeeded(self, key: Hashable) -> None:
        self._records.pop(key, None)

    def _forget_stale(self, now: dt.datetime) -> None:
        # Bounded memory: a flood of made-up usernames must not grow this without limit.
        if len(self._records) < MAX_TRACKED_KEYS:
            return
        stale = [k for k, r in self._records.items() if now - r.last_failure > self._policy.forget_after]
        for key in stale:
            del self._records[key]
        if len(self._records) >= MAX_TRACKED_KEYS:
            # Everything is fresh: drop the oldest half rather than refuse to count.
            by_age = sorted(self._records, key=lambda k: self._records[k].last_failure)
            for key in by_age[: len(by_age) // 2]:
                del self._records[key]
