"""components/memory.py: the backend's malloc (glibc) gives back what its threads free, as glibc
itself counts it (malloc_stats, mallinfo2), each in a fresh interpreter."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="these are glibc's habits")

TUNE = textwrap.dedent(
    """
    import ctypes, sys
    from components.memory import tune_malloc
    if sys.argv[1] == "tuned":
        assert tune_malloc()
    libc = ctypes.CDLL(None)
    """
)
# Eight threads, as the backend's pool has, each allocating and freeing.
THREADS_ALLOCATE = TUNE + textwrap.dedent(
    """
    import threading
    def work():
        for _ in range(2000):
            chunk = bytearray(4096)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    libc.malloc_stats()
    """
)
MIB = 2**20
# A 4 MiB block, freed (glibc then raises its thresholds to 4 MiB and 8 MiB), then a 2 MiB one,
# freed: how much memory malloc holds free afterwards, in KiB.
BIG_BLOCKS = TUNE + textwrap.dedent(
    f"""
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    for size in (4 * {MIB}, 2 * {MIB}):
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)  # touched: resident, as a real buffer is
        libc.free(block)
    print(libc.mallinfo2().fordblks // 1024)
    """
)


def run(script: str, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, check=True, timeout=60)


def arenas(mode: str) -> int:
    return sum(line.startswith("Arena ") for line in run(THREADS_ALLOCATE, mode).stderr.splitlines())


def free_but_held_kib(mode: str) -> int:
    return int(run(BIG_BLOCKS, mode).stdout)


def test_the_pool_s_threads_share_one_arena_where_each_would_have_its_own():
    assert arenas("default") > 1  # glibc's own way: a thread, an arena
    assert arenas("tuned") == 1


def test_a_big_block_freed_goes_back_to_the_system_where_glibc_would_hold_it():
    assert free_but_held_kib("default") >= 2 * 1024  # the 2 MiB block came from the heap, which kept it
    assert free_but_held_kib("tuned") < 1024
