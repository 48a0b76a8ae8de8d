"""One malloc arena for the backend's threads (glibc): why, and the one call that does it.

The backend's Python objects stay flat over a long run (tracemalloc over a soak: +0.8 MiB from
1,000 to 4,000 trips, all of it the bounded follower cache), yet its RSS grew by a fifth in the
first 10,000 trips. glibc's malloc gives every thread its own arena (up to 8 per core), and the
bounded pool's threads (TAXI_DB_POOL_SIZE, 8) each allocate and free in theirs: what they free
stays in the arena, free but held, and the arenas never give it back. Measured with mallinfo2 in
a 10,000-trip soak on SQLite (docs/reliability.md, "Soak"): memory free but held by malloc
3.4 → 15.0 MiB and RSS +17.8 % with an arena per thread; 0.8 → 2.8 MiB and +7.1 % with one, at
110 trips/s against 97 (the pool's threads take turns on the GIL anyway, so one arena's lock
costs nothing measurable).

mallopt(M_ARENA_MAX, 1) before the pool's threads exist is what MALLOC_ARENA_MAX=1 in the
environment does, without depending on whoever starts the process (`taxi run`, systemd, a
Procfile). Elsewhere than glibc (musl, macOS) it is a no-op.
"""

from __future__ import annotations

import ctypes

M_ARENA_MAX = -8  # glibc's <malloc.h>


def use_one_malloc_arena() -> bool:
    """Whether glibc took it; call it before any thread is started."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_ARENA_MAX, 1) == 1
