"""`taxi bench`: taxi and the router's own floor, side by side, with the same clients
(or, with --soak, taxi alone for many trips: soak.py; with --storm, the router killed under
connected drivers: storm.py).

For each number of drivers (one, or 10/100/1000 with --sweep) two nodes run at once from the
same config: the floor's, whose backend is the stub (stub.py), and taxi's (or --url). Each gets
the same users; then the timed trips are made in rounds, the floor's and taxi's in turn (ABBA),
so that whatever else the machine is doing weighs on both alike.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from twisted.internet import defer, task
from twisted.logger import (
    FileLogObserver,
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    Logger,
    eventAsText,
    formatEvent,
    globalLogBeginner,
)

from taxi.messages import explain
from taxi_core.db import DatabaseUnusable

from . import report
from .args import DEFAULT_ROUNDS, DEFAULTS, PLOTS, SOAK_DEFAULTS, SWEEP_DRIVERS
from .nodes import LocalNode, RemoteNode
from .runner import Run
from .stats import machine

INSTALL_EXTRA = "pip install 'taxi[bench]' (in a clone of taxi: pip install -e '.[bench]')"

log = Logger()


def main(args) -> None:
    for name, default in (SOAK_DEFAULTS if args.soak is not None else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.city or args.city_sweep:
        from .city.cli import bench, check
    elif args.soak is not None:
        bench, check = _soak, _check
    elif args.storm is not None:
        bench, check = _storm, _check_storm
    else:
        bench, check = _bench, _check
    check(args)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="taxi-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    _log_to(workdir / "bench.log")
    task.react(lambda reactor: defer.ensureDeferred(_bench_or_say_why(reactor, bench, args, workdir)))


def _check(args) -> None:
    """Refuses, in one line and before anything starts, a run that could not go through."""
    soaking = args.soak is not None
    if args.rounds is None:
        args.rounds = min(DEFAULT_ROUNDS, args.trips)
    if args.plot is None:
        args.plot = PLOTS["soak" if soaking else "sweep"]
    if min(args.drivers, args.riders, args.trips, args.rounds) < 1 or args.rounds > args.trips:
        raise SystemExit("taxi bench: --drivers, --riders, --trips and --rounds must be at least 1, and --rounds at most --trips")
    if soaking and (args.soak < 1 or args.grace < 0 or args.url or args.sweep):
        # The soak asks the router what it holds, as the backend: only a node of its own lets it.
        raise SystemExit("taxi bench: --soak needs at least 1 trip, a grace of 0 s or more, and neither --url nor --sweep")
    require_extra(plot=args.sweep or soaking)


def _check_storm(args) -> None:
    tickets = args.ticket_drivers
    if args.storm < 1 or (tickets is not None and not (args.login == "both" and 1 <= tickets <= args.storm)):
        raise SystemExit("taxi bench: --storm needs at least 1 driver; --ticket-drivers, from 1 to N, goes with --login both")
    if args.url or args.sweep or args.soak is not None:
        # The storm kills the router: only a node of its own lets it.
        raise SystemExit("taxi bench: --storm needs neither --url nor --sweep nor --soak")
    require_extra(plot=False)


def require_extra(*, plot: bool) -> None:
    """The `bench` extra (setup.py); its third, psutil, comes with Crossbar. tqdm is imported
    once the nodes are up and matplotlib after a run that plots: a missing one is found now instead."""
    for module in ("tqdm", *(("matplotlib",) if plot else ())):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            raise SystemExit(f"taxi bench needs the bench extra ({missing.name or module} is missing): {INSTALL_EXTRA}")


def _log_to(path: Path) -> None:
    """Everything to the run's log file; errors to the terminal as well, one line each (their
    tracebacks are in the file). Lines from the nodes' child processes (events with a "tag") go
    to each node's own log instead (nodes.py); a node that does not start quotes its end."""
    text = open(path, "a", encoding="utf-8")
    chatter = FileLogObserver(text, lambda event: eventAsText(event, includeSystem=False) + "\n")
    terminal = FilteringLogObserver(
        FileLogObserver(sys.stderr, lambda event: f"taxi bench: {_one_line(event)}\n"),
        [LogLevelFilterPredicate(defaultLogLevel=LogLevel.error)],
    )

    def observe(event) -> None:
        if "tag" not in event:
            chatter(event)
            terminal(event)

    globalLogBeginner.beginLoggingTo([observe], redirectStandardIO=False)


def _one_line(event) -> str:
    failure = event.get("log_failure")
    reason = f": {failure.type.__name__}: {failure.getErrorMessage()}" if failure else ""
    return formatEvent(event) + reason


async def _bench_or_say_why(reactor, bench, args, workdir: Path) -> None:
    try:
        await bench(reactor, args, workdir)
    except DatabaseUnusable as problem:
        # The same one line as `taxi run` gives for a database it cannot use.
        raise SystemExit(f"taxi bench: {explain(problem)}")
    except Exception as error:
        # The traceback to the log file only (below the terminal's level); the reason to the terminal.
        log.failure("taxi bench failed", level=LogLevel.info)
        raise SystemExit(f"taxi bench failed: {type(error).__name__}: {error}\n"
                         f"(the traceback is in {workdir / 'bench.log'}, the nodes' logs beside it)")


async def _soak(reactor, args, workdir: Path) -> None:
    from . import soak

    await soak.main(reactor, args, workdir, bar, database_kind(args))


async def _storm(reactor, args, workdir: Path) -> None:
    from . import storm

    await storm.main(reactor, args, workdir, bar, database_kind(args))


async def _bench(reactor, args, workdir: Path) -> None:
    database = database_kind(args)
    points = []
    for drivers, proxies in [(d, p) for d in (SWEEP_DRIVERS if args.sweep else (args.drivers,)) for p in args.proxies]:
        load_before = os.getloadavg()[0]
        point = await _point(reactor, args, drivers, workdir, proxies)
        # What else ran meanwhile: on a shared machine it moves every figure, and the ratios too.
        point["load_average"] = [load_before, os.getloadavg()[0]]
        point["targets"] = report.targets(database, drivers, point["taxi"], point["ratios"])
        points.append(point)
        print(f"\n{_describe(args, drivers, database, proxies)}\n{report.table(point)}\n{load_note(point)}", flush=True)
    document = run_document(args, database, ("riders", "trips", "warmup", "rounds", "serializer"), points)
    if args.json:
        report.write_json(args.json, document)
    if args.sweep:
        from .plot import plot_sweep

        path = args.plot
        plot_sweep(points, path, f"taxi bench --sweep: {database}, R={args.riders} riders × T={args.trips} trips")
        print(f"plot: {path}")
    print(f"logs: {workdir}")
    failed = report.failures(points)
    if failed:
        raise SystemExit(f"taxi bench: some trips failed:\n{failed}")


def run_document(args, database: str, options, points: list[dict]) -> dict:
    """What --json writes: when, the command, the machine, the database, the options, the points."""
    return {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "taxi bench " + " ".join(sys.argv[2:]),
        "machine": machine(),
        "database": database,
        **{key: getattr(args, key) for key in options},
        "points": points,
    }


def database_kind(args) -> str:
    if args.url and not args.database_url:
        return "remote"
    return make_url(args.database_url).get_backend_name() if args.database_url else "sqlite"


def load_note(point: dict) -> str:
    before, after = point["load_average"]
    note = f"load average (1 min) {before:.1f} before, {after:.1f} after, on {os.cpu_count()} CPUs"
    if before > (os.cpu_count() or 1) / 2:
        # Measured before this point's nodes started: other work, or the minute-long memory of
        # the point before it in a sweep.
        note += ": the CPUs were busy as this point began; compare its ratios, not its absolute figures"
    return note


def _describe(args, drivers: int, database: str, proxies: int = 0) -> str:
    return (
        f"D={drivers} drivers, R={args.riders} riders × T={args.trips} trips in {args.rounds} rounds "
        f"(+{args.warmup} warm-up), taxi on {database}, clients speak {args.serializer}"
        + (f", {proxies} prox{'ies' if proxies != 1 else 'y'} in front of each router worker" if proxies else "")
    )


async def _point(reactor, args, drivers: int, workdir: Path, proxies: int = 0) -> dict:
    # The floor has the same proxies in front as taxi: the ratios compare like with like.
    name = f"{drivers}-proxies-{proxies}" if proxies else f"{drivers}"
    sqlite_file = workdir / f"taxi-{name}.sqlite3"
    if args.url:
        taxi_node = RemoteNode(args.url)
    else:
        url = args.database_url or f"sqlite:///{sqlite_file}"
        taxi_node = LocalNode(reactor, database_url=url, log_path=workdir / f"taxi-{name}.log", floor=False,
                              proxies=proxies)  # fmt: skip
    floor_node = LocalNode(reactor, database_url="memory://", log_path=workdir / f"floor-{name}.log", floor=True,
                           proxies=proxies)  # fmt: skip
    options = {"drivers": drivers, "riders": args.riders, "serializer": args.serializer}
    floor, taxi = Run(reactor, "floor", floor_node, **options), Run(reactor, "taxi", taxi_node, **options)
    try:
        for run in (floor, taxi):
            await run.prepare(bar)
        with bar("trips", 2 * args.riders * (args.warmup + args.trips)) as progress:
            for run in (floor, taxi):
                if args.warmup:
                    await run.warm_up(args.warmup, progress)
            for n, trips in enumerate(_rounds(args.trips, args.rounds)):
                for run in (floor, taxi) if n % 2 == 0 else (taxi, floor):
                    await run.round(trips, progress)
        figures = {"floor": await floor.figures(), "taxi": await taxi.figures()}
    finally:
        for run in (floor, taxi):
            await run.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    return {"drivers": drivers, "proxies": proxies, **figures, "ratios": report.ratios(figures["floor"], figures["taxi"])}


def _rounds(trips: int, rounds: int) -> list[int]:
    """`trips` split into `rounds` near-equal parts."""
    return [trips // rounds + (n < trips % rounds) for n in range(rounds)]


@contextmanager
def bar(description: str, total: int):
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit="", file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield bar
