"""One side of the comparison — the floor or taxi: its node, its clients, its clock and its CPU."""

from __future__ import annotations

import math
import os

import psutil
from twisted.internet import task

from . import report
from .stats import ResourceSampler, rss
from .workload import Workload

SETTLE = 2.0  # seconds the router gets to settle before and after the idle drivers join


class Run:
    def __init__(self, reactor, name: str, node, *, drivers: int, riders: int, serializer: str):
        self.reactor, self.name, self.node = reactor, name, node
        self.drivers, self.riders, self.serializer = drivers, riders, serializer
        self.workload: Workload | None = None
        self.sampler: ResourceSampler | None = None
        self.duration = 0.0
        self.idle_driver_kb = math.nan

    async def prepare(self, bars) -> None:
        """Starts the node; signs everyone up; riders, then drivers, log in (the drivers are weighed)."""
        await self.node.start()
        self.workload = Workload(
            self.reactor, self.node.url, drivers=self.drivers, riders=self.riders, serializer=self.serializer
        )
        with bars(f"{self.name}: sign up", self.drivers + self.riders) as bar:
            await self.workload.sign_up(bar)
        with bars(f"{self.name}: log in", self.drivers + self.riders) as bar:
            # The riders join first, so the router has run every code path before it is weighed.
            await self.workload.log_in_riders(bar)
            processes = self.node.processes()
            await self._weigh_idle_drivers(processes["router"], bar)
        self.sampler = ResourceSampler({**processes, "bench": [psutil.Process(os.getpid())]})

    async def _weigh_idle_drivers(self, router: list, bar) -> None:
        """How much the router worker's RSS grows for each driver that logs in, subscribes and waits."""
        await self._sleep(SETTLE)
        before = rss(router)
        await self.workload.log_in_drivers(bar)
        await self._sleep(SETTLE)
        if router:
            self.idle_driver_kb = (rss(router) - before) / self.drivers / 1024

    async def warm_up(self, trips: int, bar) -> None:
        bar.set_description(f"trips ({self.name}, warm-up)")
        await self.workload.run(bar, trips)
        await self.workload.forget()

    async def round(self, trips: int, bar) -> None:
        """`trips` timed trips per rider; the CPU of router, backend and clients is counted meanwhile."""
        bar.set_description(f"trips ({self.name})")
        self.sampler.resume()
        try:
            self.duration += await self.workload.run(bar, trips)
        finally:
            self.sampler.pause()

    async def figures(self) -> dict:
        await self.workload.settle()
        return report.figures(self.workload, self.duration, self.sampler.result(), self.idle_driver_kb)

    async def close(self) -> None:
        if self.workload is not None:
            self.workload.close()
            await self._sleep(0.5)
        await self.node.stop()

    def _sleep(self, seconds: float):
        return task.deferLater(self.reactor, seconds, lambda: None)
