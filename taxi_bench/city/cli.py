"""`taxi bench --city` and `--city-sweep`: the points, their tables, the JSON and the plot."""

from __future__ import annotations

import os
from pathlib import Path

from ..args import CITY_SWEEP_DRIVERS, CITY_SWEEP_PLOT
from ..cli import database_kind, load_note, require_extra, run_document
from ..report import write_json
from . import figures
from .run import point

OPTIONS = ("riders", "trips", "duration", "rate", "positions_seconds", "accept_probability", "think_seconds",
           "city_km", "seed", "serializer")  # fmt: skip


def check(args) -> None:
    """Refuses, in one line and before anything starts, a run that could not go through."""
    if min(args.drivers, args.riders, args.trips) < 1 or args.rate <= 0 or (args.duration or 1) <= 0:
        raise SystemExit("taxi bench --city: --drivers, --riders and --trips must be at least 1, "
                         "--rate and --duration positive")  # fmt: skip
    if not 0 <= args.accept_probability <= 1 or min(args.think_seconds, args.positions_seconds, args.city_km) <= 0:
        raise SystemExit("taxi bench --city: --accept-probability must be in [0, 1], --think-seconds and "
                         "--positions-seconds and --city-km positive")  # fmt: skip
    require_extra(plot=args.city_sweep)


async def bench(reactor, args, workdir: Path) -> None:
    database = database_kind(args)
    points = []
    for drivers in CITY_SWEEP_DRIVERS if args.city_sweep else (args.drivers,):
        loadavg_before, load_before = _loadavg(), os.getloadavg()[0]
        result = await point(reactor, args, drivers, workdir)
        result["load_average"] = [load_before, os.getloadavg()[0]]
        result["loadavg"] = [loadavg_before, _loadavg()]
        points.append(result)
        print(f"\n{_describe(args, drivers, database)}\n{figures.table(result)}\n{load_note(result)}", flush=True)
    document = run_document(args, database, OPTIONS, points)
    if len(points) > 1:
        document["router_growth"] = growth = figures.growth(points)
        print(f"\n{figures.sweep_table(points)}\n{_growth_line(growth)}")
    if args.json:
        write_json(args.json, document)
    if args.city_sweep:
        from ..plot import plot_city_sweep

        path = args.plot or CITY_SWEEP_PLOT
        plot_city_sweep(points, path, f"taxi bench --city-sweep: {database}, {args.rate:g} trips/s requested")
        print(f"plot: {path}")
    print(f"logs: {workdir}")
    failed = [f"  D={p['drivers']}: {p['error_count']} errors, the first: {p['errors'][0]}"
              for p in points if p["errors"]]  # fmt: skip
    if failed:
        raise SystemExit("taxi bench --city: some calls failed:\n" + "\n".join(failed))


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as text:
            return text.read().strip()
    except OSError:
        return " ".join(f"{n:.2f}" for n in os.getloadavg())


def _describe(args, drivers: int, database: str) -> str:
    amount = f"for {args.duration:g} s" if args.duration else f"{args.trips} trips"
    return (f"city of {args.city_km:g} km × {args.city_km:g} km: D={drivers} drivers, "
            f"R={args.riders} riders requesting {args.rate:g}/s ({amount}), "
            f"drivers take an offer with p={args.accept_probability:g} after ~{args.think_seconds:g} s; "
            f"taxi on {database}, clients speak {args.serializer}")  # fmt: skip


def _growth_line(growth: dict) -> str:
    verdict = "met" if growth["met"] else "MISSED"
    paused = "not measured" if growth["paused"] is None else f"{growth['paused']:.2f}"
    return (f"router CPU per trip, D={growth['to']} ÷ D={growth['from']}: {paused} with positions paused, "
            f"{growth['net']:.2f} net of positions ({growth['gross']:.2f} gross); "
            f"goal ≤ {growth['bound']:g}, on the {growth['judged_on']} figure: {verdict}")  # fmt: skip
