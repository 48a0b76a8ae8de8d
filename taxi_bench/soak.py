"""`taxi bench --soak N`: N trips through the whole lifecycle on taxi alone (no floor), and what
the router worker and the backend keep in memory meanwhile (docs/reliability.md, "Soak").

The router must not keep what finished trips leave behind (components/router_retention.py). So:
after the run and the grace, the router worker's RSS is back within 10 % of what it was after the
warm-up (the first 5 % of the trips), and the router holds nothing of any trip, as it counts
itself (taxi.router.retained, asked as the backend): memory a process once used is not always
given back, so only the count can say that nothing is held. The backend is held to the same
bound, and must have levelled off: over the second half of the trips it may grow by at most 2 %
(its caches fill as the database grows, so the warm-up alone cannot say that it stopped). RSS is
sampled every 1 % of the trips, between them (the riders all pause), so a sample never races a
trip; the time spent sampling is not counted in trips/s.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from twisted.internet import task

from components import uris
from taxi.client import connect_backend, router_holds

from . import report
from .nodes import LocalNode
from .stats import machine, rss
from .workload import Workload

# Of the trips: the pools are open and the router's caches full by then; the backend's SQLite
# cache goes on filling as the database grows, which LEVEL allows for.
WARM_UP = 0.05
SAMPLES = 100
BOUND = 0.10  # how far above its size after the warm-up a process may end
# How much the backend may grow over the second half of the trips. Measured over 100,000 trips:
# +3.5 % before components/memory.py (a step of 2.6 MiB at ~85,000, glibc keeping a freed
# block), +0.5 % since.
LEVEL = 0.02
MIB = 2**20


@dataclass
class Sample:
    phase: str  # "run", or "after grace" for the last one
    trips: int
    seconds: float  # spent making trips so far
    router_rss_mb: float
    backend_rss_mb: float
    retained: int  # trip topics the router holds a retained event for
    in_grace: int  # of those, finished trips whose grace is running


async def main(reactor, args, workdir: Path, bars, database: str) -> None:
    """The soak, its table, CSV and plot; exits non-zero if a bound is missed."""
    load_before = os.getloadavg()
    sqlite_file = workdir / "taxi-soak.sqlite3"
    node = LocalNode(reactor, database_url=args.database_url or f"sqlite:///{sqlite_file}",
                     log_path=workdir / "taxi-soak.log", floor=False, grace=args.grace)  # fmt: skip
    try:
        samples, held, duplicates = await _soak(reactor, node, args, bars)
    finally:
        await node.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    result = {**figures(samples, held, args.grace), "duplicates_dropped": duplicates,
              "load_average": [load_before, os.getloadavg()]}
    title = (f"taxi bench --soak: {result['trips']:,} trips on {database}, D={args.drivers} drivers, "
             f"R={args.riders} riders, grace {args.grace:g} s")  # fmt: skip
    print(f"\n{title}\n{table(result)}\n{_load_note(result['load_average'])}", flush=True)
    write_csv(args.csv, samples)
    from .plot import plot_soak

    plot_soak([asdict(s) for s in samples], args.plot, title, result["warm_up_trips"], BOUND)
    if args.json:
        report.write_json(args.json, {"command": "taxi bench " + " ".join(sys.argv[2:]), "machine": machine(),
                                      "database": database, **result, "samples": [asdict(s) for s in samples]})  # fmt: skip
    print(f"samples: {args.csv}\nplot: {args.plot}\nlogs: {workdir}")
    missed = [name for name, check in result["checks"].items() if not check["met"]]
    if missed:
        raise SystemExit(f"taxi bench --soak: missed: {'; '.join(missed)}")


async def _soak(reactor, node: LocalNode, args, bars) -> tuple[list[Sample], dict, int]:
    """The samples, what the router holds of trips after the grace, and the events the clients
    dropped as seen already (at-least-once delivery's duplicates)."""
    await node.start()
    workload = Workload(reactor, node.url, drivers=args.drivers, riders=args.riders, serializer=args.serializer)
    backend = None
    try:
        with bars("soak: sign up", args.drivers + args.riders) as bar:
            await workload.sign_up(bar)
        with bars("soak: log in", args.drivers + args.riders) as bar:
            await workload.log_in_riders(bar)
            await workload.log_in_drivers(bar)
        backend = await connect_backend(node.backend_socket, node.backend_ticket, reactor=reactor)
        samples = await _trips(workload, node, backend, args.soak, bars)
        # Past the grace, once no finished trip is in it any more (router_holds waits for that).
        await task.deferLater(reactor, args.grace, lambda: None)
        held = await router_holds(backend, timeout=args.grace + 60)
        samples.append(_sample("after grace", samples[-1].trips, samples[-1].seconds, node, held))
        return samples, held, workload.duplicates()
    finally:
        workload.close()
        if backend is not None:
            await backend.close()


async def _trips(workload: Workload, node: LocalNode, backend, trips: int, bars) -> list[Sample]:
    """`trips` (rounded up to whole rounds of every rider) in SAMPLES chunks, a sample after each."""
    per_rider = max(1, trips // (SAMPLES * workload.n_riders))
    chunk = per_rider * workload.n_riders
    samples, done, seconds = [], 0, 0.0
    with bars("soak: trips", math.ceil(trips / chunk) * chunk) as bar:
        while done < trips:
            seconds += await workload.run(bar, per_rider)
            done += chunk
            await workload.forget()  # the traces would be the biggest thing in memory here
            samples.append(_sample("run", done, seconds, node, await backend.call(uris.ROUTER_RETAINED)))
            bar.set_postfix_str(f"RSS router {samples[-1].router_rss_mb:.1f} MiB, backend {samples[-1].backend_rss_mb:.1f} MiB")
    if workload.errors:
        raise RuntimeError(f"{len(workload.errors)} trips failed, the first: {workload.errors[0]!r}")
    return samples


def _sample(phase: str, trips: int, seconds: float, node: LocalNode, held: dict) -> Sample:
    processes = node.processes()
    return Sample(
        phase, trips, seconds, rss(processes["router"]) / MIB, rss(processes["backend"]) / MIB,
        held["retained"], held["in_grace"]
    )


def figures(samples: list[Sample], held: dict, grace: float) -> dict:
    """The table's figures from the samples: each process's RSS after the warm-up, at the end and
    after the grace, its change, and the checks (with what the router holds after the grace)."""
    run, after = [s for s in samples if s.phase == "run"], samples[-1]
    warm = next(s for s in run if s.trips >= WARM_UP * run[-1].trips)
    out = {"trips": run[-1].trips, "seconds": run[-1].seconds, "throughput": run[-1].trips / run[-1].seconds,
           "grace_s": grace, "warm_up_trips": warm.trips, "rss_mb": {}, "checks": {}}  # fmt: skip
    for process in ("router", "backend"):
        name = f"{process}_rss_mb"
        values = {"after_warm_up": getattr(warm, name), "end": getattr(run[-1], name),
                  "after_grace": getattr(after, name), "peak": max(getattr(s, name) for s in samples)}  # fmt: skip
        values["change"] = values["after_grace"] / values["after_warm_up"] - 1
        out["rss_mb"][process] = values
        out["checks"][f"{process} RSS after the grace ≤ warm-up + {BOUND:.0%}"] = {
            "value": values["change"], "met": values["change"] <= BOUND
        }
    halfway = next(s for s in run if s.trips >= run[-1].trips / 2)
    second_half = after.backend_rss_mb / halfway.backend_rss_mb - 1
    out["rss_mb"]["backend"]["halfway"] = halfway.backend_rss_mb
    out["checks"][f"backend RSS after the grace ≤ half-way + {LEVEL:.0%}"] = {
        "value": second_half, "met": second_half <= LEVEL
    }
    out["held_after_grace"] = held
    out["checks"]["the router holds nothing of any trip after the grace"] = {"value": held, "met": not any(held.values())}
    return out


def table(result: dict) -> str:
    rss_mb, held = result["rss_mb"], result["held_after_grace"]
    rows = [("RSS, MiB", "router worker", "backend")]
    for key, label in (("after_warm_up", f"after the warm-up ({result['warm_up_trips']:,} trips)"),
                       ("end", f"at the end ({result['trips']:,} trips)"),
                       ("after_grace", f"after the grace ({result['grace_s']:g} s)"),
                       ("peak", "peak sample")):  # fmt: skip
        rows.append((label, *(f"{rss_mb[p][key]:.1f}" for p in ("router", "backend"))))
    rows.append(("change, after the grace vs the warm-up", *(f"{rss_mb[p]['change']:+.1%}" for p in ("router", "backend"))))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"trips/s: {result['throughput']:.1f} ({result['trips']:,} trips in {result['seconds']:.0f} s)")
    lines.append(f"duplicate events dropped by the clients (same seq): {result.get('duplicates_dropped', 0):,}")
    lines.append("the router holds of trips after the grace: " + ", ".join(f"{k} {v}" for k, v in held.items()))
    lines += [f"{'met   ' if c['met'] else 'MISSED'} {name}" for name, c in result["checks"].items()]
    return "\n".join(lines)


def _load_note(load: list) -> str:
    (before, *_), (after, *_) = load
    return f"load average (1 min) {before:.1f} before, {after:.1f} after, on {os.cpu_count()} CPUs"


def write_csv(path: str, samples: list[Sample]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([f.name for f in fields(Sample)])
        for s in samples:
            writer.writerow([round(v, 3) if isinstance(v, float) else v for v in asdict(s).values()])
