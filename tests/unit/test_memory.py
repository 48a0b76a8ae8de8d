"""components/memory.py: the backend's threads share one malloc arena (glibc), counted by glibc
itself (malloc_stats prints one "Arena N:" block per arena) in a fresh interpreter."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

# Eight threads, as the backend's pool has, each allocating and freeing.
THREADS_ALLOCATE = textwrap.dedent(
    """
    import ctypes, sys, threading
    from components.memory import use_one_malloc_arena
    if sys.argv[1] == "one":
        assert use_one_malloc_arena()
    def work():
        for _ in range(2000):
            chunk = bytearray(4096)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    ctypes.CDLL(None).malloc_stats()
    """
)


def arenas(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATE, mode], capture_output=True, text=True, check=True, timeout=60)
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_the_pool_s_threads_share_one_arena_where_each_would_have_its_own():
    assert arenas("default") > 1  # glibc's own way: a thread, an arena
    assert arenas("one") == 1
