"""How the backend's malloc (glibc) keeps what it frees: why, and the one call that sets it.

The backend's Python objects stay flat over a long run (tracemalloc over a soak: +0.8 MiB from
1,000 to 4,000 trips, all of it the bounded follower cache), yet its RSS grew. Two habits of
glibc's malloc, each measured with mallinfo2 in soaks on SQLite (docs/reliability.md, "Soak"):

- **An arena per thread.** glibc gives every thread its own arena (up to 8 per core), and the
  bounded pool's threads (TAXI_DB_POOL_SIZE, 8) each allocate and free in theirs: what they free
  stays in the arena, free but held. Memory free but held 3.4 → 15.0 MiB and RSS +17.8 % over
  10,000 trips with an arena per thread; 0.8 → 2.8 MiB and +7.1 % with one, at 110 trips/s
  against 97 (the pool's threads take turns on the GIL anyway, so one arena's lock costs
  nothing measurable).
- **A threshold that only rises.** A block of 128 KiB or more gets its own mapping, given back
  when freed; but once such a block is freed, glibc raises that threshold to its size (up to
  32 MiB) and the trim threshold to twice that. Blocks below come from the heap from then on,
  and the heap keeps what is freed at its top below the new trim threshold. In a 100,000-trip
  soak a 3.7 MiB block was freed at ~63,000 trips; at ~85,000 a 2.6 MiB block came from the
  heap and, freed, stayed held: RSS stepped up by 2.6 MiB and never came down. Fixed
  thresholds (setting either turns the rising off) give back what is freed.

mallopt before the pool's threads exist does what MALLOC_ARENA_MAX=1, MALLOC_MMAP_THRESHOLD_
and MALLOC_TRIM_THRESHOLD_ in the environment do, without depending on whoever starts the
process (`taxi run`, systemd, a Procfile). Elsewhere than glibc (musl, macOS) it is a no-op.
"""

from __future__ import annotations

import ctypes

# glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

SETTINGS = {
    M_ARENA_MAX: 1,
    # glibc's own starting value, kept: a block this large is mapped, and unmapped when freed.
    M_MMAP_THRESHOLD: 128 * 1024,
    # Free memory at the heap's top beyond this goes back to the system.
    M_TRIM_THRESHOLD: 1024 * 1024,
}


def tune_malloc() -> bool:
    """Whether glibc took every setting; call it before any thread is started."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # A list, not a generator: every setting is made even if one is refused.
    return all([mallopt(parameter, value) == 1 for parameter, value in SETTINGS.items()])
