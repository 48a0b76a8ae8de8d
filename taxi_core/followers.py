"""Who may follow which trip, as far as this process has seen: the yeses only, which never change.

A trip's rider is its rider forever, and its driver, once one has accepted, stays its driver
(nothing in the lifecycle unsets it). So "user U may follow trip T" never turns into a no,
and remembering it is safe: the authorizer need not ask the database again for the subscribe
that follows a request or an accept. A no is never remembered (the user may become the
driver), and a process that has not seen the yes (say, another backend) asks the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

# The yes is wanted once, by the subscribe that follows the request or the accept within a moment,
# so the latest few thousand are enough (a minute of trips at 50 a second); the oldest go first.
# It was 100,000, "a day of trips": some 20 MiB that the 100,000-trip soak saw as the backend
# growing by half (docs/reliability.md, "Soak"). A pair forgotten too soon costs one query.
MAX_REMEMBERED = 4_096


class Followers:
    def __init__(self, max_remembered: int = MAX_REMEMBERED):
        self._max = max_remembered
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()  # the pool's threads share it

    def remember(self, user: str, nk: str) -> None:
        with self._lock:
            self._known[(user, nk)] = None
            self._known.move_to_end((user, nk))
            if len(self._known) > self._max:
                self._known.popitem(last=False)

    def knows(self, user: str, nk: str) -> bool:
        with self._lock:
            return (user, nk) in self._known
