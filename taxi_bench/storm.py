"""`taxi bench --storm N`: N drivers connected to taxi.drivers, the router killed with kill -9 and
started again by `taxi run`'s supervisor, and how long until they are all back (docs/reliability.md,
"Reconnect storm").

Each driver (fleet.py) logs in with its device key, or with --login ticket its password, and
reconnects by itself. From the kill: the seconds until 50 %, 99 % and 100 % of them are joined
and subscribed again; what the backend spent meanwhile in CPU (/proc's utime + stime, by psutil),
which is the logins' cost (a ticket's argon2, a key's lookup) with the joins it records; what
the new router worker and these clients spent. Then a rider requests a trip, and every driver
must be told of it: subscribed again means subscribed, not just asked.
"""

from __future__ import annotations

import math
import os
import secrets
import sys
from pathlib import Path

import psutil
from twisted.internet import task

from taxi.ports import port_open

from . import report
from .fleet import Fleet, now, seed_in_thread
from .nodes import LocalNode
from .stats import machine

GOAL_SECONDS = 15  # all back, with device keys, on a 2-core machine (issue 12)
GOAL_CPU_RATIO = 0.1  # a key's login costs the backend at most a tenth of a ticket's
SETTLE = 2.0  # seconds after the last join before the kill: the backend has recorded every join by then
STORM_TIMEOUT = {"device": 120, "ticket": 900}
HEAR_TIMEOUT = 30
LOGINS = {"device": "device keys", "ticket": "tickets"}


async def main(reactor, args, workdir: Path, bars, database: str) -> None:
    """The storm(s), the table and --json; exits non-zero if a goal or a check is missed."""
    load_before = os.getloadavg()
    sqlite_file = workdir / "taxi-storm.sqlite3"
    node = LocalNode(reactor, database_url=args.database_url or f"sqlite:///{sqlite_file}",
                     log_path=workdir / "taxi-storm.log", floor=False)  # fmt: skip
    try:
        await node.start()
        storms = await _storms(reactor, node, args, bars)
    finally:
        await node.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    result = {"storms": storms, "checks": checks(storms), "load_average": [load_before, os.getloadavg()]}
    print(f"\ntaxi bench --storm: drivers on taxi.drivers, the router killed (kill -9) and restarted "
          f"by taxi run, on {database}\n{table(result)}", flush=True)  # fmt: skip
    if args.json:
        report.write_json(args.json, {"command": "taxi bench " + " ".join(sys.argv[2:]), "machine": machine(),
                                      "database": database, **result})  # fmt: skip
    print(f"logs: {workdir}")
    missed = [name for name, check in result["checks"].items() if not check["met"]]
    if missed:
        raise SystemExit(f"taxi bench --storm: missed: {'; '.join(missed)}")


async def _storms(reactor, node: LocalNode, args, bars) -> list[dict]:
    logins = ("device", "ticket") if args.login == "both" else (args.login,)
    sizes = {"device": args.storm, "ticket": args.ticket_drivers or args.storm}
    tag = f"storm-{secrets.token_hex(4)}"
    drivers = [f"{tag}-driver-{n}" for n in range(max(sizes[login] for login in logins))]
    rider = f"{tag}-rider"
    with bars("storm: sign up", 1) as bar:
        keys = await seed_in_thread(node.database_url, drivers, [rider])
        bar.update(1)
    storms = []
    for login in logins:
        fleet = Fleet(reactor, node.url, {name: keys[name] if login == "device" else None
                                          for name in drivers[:sizes[login]]})  # fmt: skip
        try:
            storms.append(await storm(reactor, node, fleet, login, rider, bars))
        finally:
            await fleet.stop()
    return storms


async def storm(reactor, node: LocalNode, fleet: Fleet, login: str, rider: str, bars) -> dict:
    """One storm: connect the fleet, kill the router, wait for everyone, tell them of a trip."""
    n = len(fleet)
    with bars(f"storm ({LOGINS[login]}): connect", n) as bar:
        if len(await fleet.start(bar)) < n:
            raise RuntimeError(f"not every driver could connect before the storm: {fleet.errors()}")
    await task.deferLater(reactor, SETTLE, lambda: None)
    before, tries_before = _cpu(node), fleet.failed_tries()
    killed_at = _kill_router(node)
    router = _RouterWatch(node.port, killed_at)
    with bars(f"storm ({LOGINS[login]}): back", n) as bar:
        back = await fleet.wait_back(killed_at, bar, STORM_TIMEOUT[login], poll=router.poll)
    spent = {name: seconds - before[name] for name, seconds in _cpu(node).items()}
    heard = await fleet.tell_of_a_trip(rider, f"{rider} after the storm ({login})", HEAR_TIMEOUT)
    return {
        "login": login, "drivers": n, "back": len(back),
        "router_listening_s": router.listening_s,
        **{f"back_{p}_s": _percentile(back, p / 100, n) for p in (50, 99, 100)},
        "backend_cpu_s": spent["backend"], "backend_cpu_ms_per_login": 1000 * spent["backend"] / n,
        "database_cpu_s": spent["database"], "router_worker_cpu_s": _router_worker_cpu(node),
        "clients_cpu_s": spent["clients"], "failed_tries": fleet.failed_tries() - tries_before,
        "last_errors": fleet.errors(), "heard_the_trip": heard,
    }


def _kill_router(node: LocalNode) -> float:
    """kill -9 of the Crossbar node and its router worker at once; when, by perf_counter."""
    processes = node.processes()
    doomed = processes["router"] + processes["controller"]
    if len(doomed) != 2:
        raise RuntimeError(f"found {len(doomed)} router processes to kill, not the controller and its worker")
    for process in doomed:
        process.kill()
    return now()


class _RouterWatch:
    """When the new router listens: the old one's port seen closed first, then open again."""

    def __init__(self, port: int, since: float):
        self.port, self.since = port, since
        self.closed = False
        self.listening_s: float | None = None

    def poll(self) -> None:
        if self.listening_s is None:
            is_open = port_open(self.port)
            self.closed = self.closed or not is_open
            if self.closed and is_open:
                self.listening_s = now() - self.since


def _cpu(node: LocalNode) -> dict[str, float]:
    """CPU seconds (user + system) so far: the backend's, the database server's, this process's."""
    processes = node.processes()

    def spent(group):
        return sum(sum(p.cpu_times()[:2]) for p in group)

    mine = psutil.Process().cpu_times()
    return {"backend": spent(processes["backend"]), "database": spent(processes["database"]),
            "clients": mine.user + mine.system}  # fmt: skip


def _router_worker_cpu(node: LocalNode) -> float:
    """The new router worker's CPU over its whole life, which began after the kill."""
    return sum(sum(p.cpu_times()[:2]) for p in node.processes()["router"])


def _percentile(back: list[float], fraction: float, n: int) -> float | None:
    """Seconds until `fraction` of the n drivers were back; None if fewer came back."""
    k = max(1, math.ceil(fraction * n))
    return back[k - 1] if len(back) >= k else None


def checks(storms: list[dict]) -> dict[str, dict]:
    out = {}
    for s in storms:
        out[f"{LOGINS[s['login']]}: every driver back and told of the trip after the storm"] = {
            "value": [s["back"], s["heard_the_trip"], s["drivers"]],
            "met": s["back"] == s["heard_the_trip"] == s["drivers"],
        }
    by_login = {s["login"]: s for s in storms}
    if "device" in by_login:
        last = by_login["device"]["back_100_s"]
        out[f"device keys: all back within {GOAL_SECONDS} s"] = {"value": last, "met": last is not None and last <= GOAL_SECONDS}
    if by_login.keys() == {"device", "ticket"}:
        ratio = by_login["device"]["backend_cpu_ms_per_login"] / by_login["ticket"]["backend_cpu_ms_per_login"]
        out["device keys: the backend's CPU a login ≤ a tenth of a ticket's"] = {"value": ratio, "met": ratio <= GOAL_CPU_RATIO}
    return out


ROWS = (
    ("drivers", "drivers", "{:,}"),
    ("router listening again, s after the kill", "router_listening_s", "{:.1f}"),
    ("50 % back (joined and subscribed), s", "back_50_s", "{:.1f}"),
    ("99 % back, s", "back_99_s", "{:.1f}"),
    ("100 % back, s", "back_100_s", "{:.1f}"),
    ("backend CPU, kill to all back, s", "backend_cpu_s", "{:.2f}"),
    ("  a login, ms", "backend_cpu_ms_per_login", "{:.1f}"),
    ("database server CPU, s", "database_cpu_s", "{:.2f}"),
    ("new router worker CPU, s", "router_worker_cpu_s", "{:.2f}"),
    ("clients' CPU (this process), s", "clients_cpu_s", "{:.2f}"),
    ("failed tries (refused, aborted, timed out)", "failed_tries", "{:,}"),
    ("told of a trip after the storm", "heard_the_trip", "{:,}"),
)


def table(result: dict) -> str:
    storms = result["storms"]
    rows = [("", *(LOGINS[s["login"]] for s in storms))]
    for label, key, form in ROWS:
        rows.append((label, *("-" if s[key] is None else form.format(s[key]) for s in storms)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    for s in storms:
        if s["last_errors"]:
            lines.append(f"{LOGINS[s['login']]}: the drivers' last failed tries: "
                         + ", ".join(f"{kind} {count}" for kind, count in s["last_errors"].items()))  # fmt: skip
    lines += [f"{'met   ' if c['met'] else 'MISSED'} {name}" for name, c in result["checks"].items()]
    (before, *_), (after, *_) = result["load_average"]
    lines.append(f"load average (1 min) {before:.1f} before, {after:.1f} after, on {os.cpu_count()} CPUs")
    return "\n".join(lines)
