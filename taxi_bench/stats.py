"""Percentiles of latencies, and what the router and the backend cost in CPU and memory (psutil)."""

from __future__ import annotations

import math
import os
import platform
import time
from importlib.metadata import version

import psutil
from twisted.internet.task import LoopingCall

SAMPLE_EVERY = 0.25  # seconds between RSS samples


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks, as numpy's default."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict:
    """p50/p95/p99 (and mean, max, n) in milliseconds."""
    values = sorted(s * 1000 for s in seconds)
    summary = {f"p{q}": percentile(values, q) for q in (50, 95, 99)}
    summary["mean"] = sum(values) / len(values) if values else math.nan
    summary["max"] = values[-1] if values else math.nan
    summary["n"] = len(values)
    return summary


def rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


class ResourceSampler:
    """CPU used by each group of processes while the sampler runs (it may run in several spells),
    and each group's peak RSS meanwhile."""

    def __init__(self, groups: dict[str, list[psutil.Process]]):
        self._groups = {name: processes for name, processes in groups.items() if processes}
        self._peak = dict.fromkeys(self._groups, 0)
        self._cpu = dict.fromkeys(self._groups, 0.0)
        self._wall = 0.0
        self._loop = LoopingCall(self._sample)

    def resume(self) -> None:
        self._resumed = time.monotonic()
        self._cpu_at_resume = {name: _cpu_seconds(group) for name, group in self._groups.items()}
        self._loop.start(SAMPLE_EVERY, now=True)

    def pause(self) -> None:
        self._loop.stop()
        self._sample()
        self._wall += time.monotonic() - self._resumed
        for name, group in self._groups.items():
            self._cpu[name] += _cpu_seconds(group) - self._cpu_at_resume[name]

    def result(self) -> dict:
        wall = self._wall or math.nan
        return {
            "cpu_seconds": dict(self._cpu),
            "cpu_percent": {name: 100 * cpu / wall for name, cpu in self._cpu.items()},
            "rss_mb": {name: peak / 2**20 for name, peak in self._peak.items()},
        }

    def _sample(self) -> None:
        for name, group in self._groups.items():
            self._peak[name] = max(self._peak[name], rss(group))


def machine() -> dict:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "crossbar": version("crossbar"),
        "autobahn": version("autobahn"),
        "twisted": version("twisted"),
        "sqlalchemy": version("sqlalchemy"),
    }
