"""The figures of a run, their ratios to the floor's, the targets, the table and the JSON."""

from __future__ import annotations

import json
import math
from collections import Counter

from .stats import latency_summary
from .workload import Workload

LATENCIES = {
    "request_ms": "(a) trip.request call → result",
    "last_driver_alert_ms": "(b) call → last driver alerted",
    "rider_alert_ms": "(c) accept call → rider alerted",
}
PERCENTILES = ("p50", "p95", "p99")
# The targets (D=100, R=10): taxi ÷ floor from one run, and the router's memory per idle driver.
THROUGHPUT_TARGET = {"sqlite": 0.7, "postgresql": 0.6}
P99_TARGET = 1.5
IDLE_DRIVER_KB_TARGET = 40
MANY_DRIVERS = 1000
TABLE_PROCESSES = ("router", "proxy", "backend", "database", "bench", "server", "all")  # the JSON also has the controllers
# "proxy": the proxy workers (`--proxies N`), if any; "database": PostgreSQL's, if local.
SERVER_PROCESSES = ("router", "proxy", "controller", "backend", "database")
PROCESS_FIGURES = {"cpu_percent": "CPU %", "cpu_ms_per_trip": "CPU ms per trip", "rss_mb": "RSS MB (peak)"}


def figures(workload: Workload, duration: float, resources: dict, idle_driver_kb: float) -> dict:
    """Everything measured in one run (floor's or taxi's), as plain data."""
    traces = list(workload.traces.values())
    done = [t for t in traces if t.completed.called and t.rider_alerted_at]
    everyone = [t for t in done if t.requested_alerts == workload.n_drivers]
    cpu_seconds = resources.pop("cpu_seconds", {})
    cpu_seconds["server"] = sum(cpu_seconds.get(name, 0.0) for name in SERVER_PROCESSES)
    cpu_seconds["all"] = cpu_seconds["server"] + cpu_seconds.get("bench", 0.0)  # and the clients
    return {
        "completed_trips": len(done),
        "duration_s": duration,
        "throughput": len(done) / duration if duration else 0.0,
        "request_ms": latency_summary([t.result_at - t.requested_at for t in done]),
        "last_driver_alert_ms": latency_summary([t.last_requested_alert_at - t.requested_at for t in everyone]),
        "rider_alert_ms": latency_summary([t.rider_alerted_at - t.accept_at for t in done]),
        "alerts": {"delivered": workload.alerts_delivered(), "expected": workload.alerts_expected()},
        "idle_driver_session_kb": idle_driver_kb,
        # CPU per trip is the steadiest figure on a shared machine: it does not count waiting.
        "cpu_ms_per_trip": {
            name: 1000 * seconds / len(done) if done else math.nan for name, seconds in cpu_seconds.items()
        },
        **resources,
        "errors": [repr(e) for e in workload.errors],
    }


def _ratio(taxi: float, floor: float) -> float:
    return taxi / floor if floor and not math.isnan(floor) else math.nan


def ratios(floor: dict, taxi: dict) -> dict:
    out = {"throughput": _ratio(taxi["throughput"], floor["throughput"])}
    for name in LATENCIES:
        for q in PERCENTILES:
            out[f"{name}.{q}"] = _ratio(taxi[name][q], floor[name][q])
    for group in PROCESS_FIGURES:
        for process, value in taxi.get(group, {}).items():
            out[f"{group}.{process}"] = _ratio(value, floor.get(group, {}).get(process, math.nan))
    out["idle_driver_session_kb"] = _ratio(taxi["idle_driver_session_kb"], floor["idle_driver_session_kb"])
    # Alone on the machine, with every process busy, trips/s go as 1 / (all the CPU a trip
    # takes); this estimate of the throughput ratio barely moves with what else is running.
    # The clients share this machine's CPUs only here, in the benchmark: with them elsewhere,
    # the server's CPU per trip is what counts.
    for part in ("all", "server"):
        out[f"throughput_if_{part}_cpu_bound"] = _ratio(floor["cpu_ms_per_trip"][part], taxi["cpu_ms_per_trip"][part])
    return out


def targets(database: str, drivers: int, taxi: dict, ratio: dict) -> dict:
    """Each target: the value, the bound, and whether it is met."""
    out = {
        "throughput": (ratio["throughput"], ">=", THROUGHPUT_TARGET.get(database, 0.7)),
        **{f"{name}.p99": (ratio[f"{name}.p99"], "<=", P99_TARGET) for name in LATENCIES},
        "idle_driver_session_kb": (taxi["idle_driver_session_kb"], "<=", IDLE_DRIVER_KB_TARGET),
    }
    if drivers >= MANY_DRIVERS:
        out["every_alert_delivered"] = (taxi["alerts"]["delivered"], ">=", taxi["alerts"]["expected"])
    return {
        name: {"value": value, "bound": bound, "met": value >= bound if op == ">=" else value <= bound, "op": op}
        for name, (value, op, bound) in out.items()
    }


def fmt(value, digits=1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def table(point: dict) -> str:
    """The run as a plain-text table: floor, taxi, taxi ÷ floor, and the target where there is one."""
    floor, taxi, ratio, goal = point["floor"], point["taxi"], point["ratios"], point["targets"]
    rows = [("", "floor", "taxi", "taxi÷floor", "target")]

    def row(label, key, f, t, digits=1):
        target = goal.get(key)
        mark = f"{target['op'].replace('>=', '≥').replace('<=', '≤')} {target['bound']:g} " + (
            "met" if target["met"] else "MISSED"
        ) if target else ""
        rows.append((label, fmt(f, digits), fmt(t, digits), fmt(ratio.get(key), 2), mark))

    row("completed trips/s", "throughput", floor["throughput"], taxi["throughput"])
    row("  if CPU-bound (1 / all CPU per trip)", "throughput_if_all_cpu_bound", None, None)
    row("  if the server's CPU is the limit", "throughput_if_server_cpu_bound", None, None)
    for name, label in LATENCIES.items():
        for q in PERCENTILES:
            row(f"{label} {q} ms" if q == "p50" else f"{'':>31} {q} ms", f"{name}.{q}", floor[name][q], taxi[name][q])
    for group, unit in PROCESS_FIGURES.items():
        for process in TABLE_PROCESSES:
            f, t = (side.get(group, {}).get(process) for side in (floor, taxi))
            if f is not None or t is not None:
                row(f"{process} {unit}", f"{group}.{process}", f, t)
    row("router KB per idle driver session", "idle_driver_session_kb",
        floor["idle_driver_session_kb"], taxi["idle_driver_session_kb"])  # fmt: skip
    rows.append(("driver alerts delivered", *(f"{r['alerts']['delivered']}/{r['alerts']['expected']}"
                                              for r in (floor, taxi)), "", ""))  # fmt: skip
    if "every_alert_delivered" in goal:
        rows[-1] = (*rows[-1][:4], "all " + ("met" if goal["every_alert_delivered"]["met"] else "MISSED"))
    rows.append(("completed trips", str(floor["completed_trips"]), str(taxi["completed_trips"]), "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)


def failures(points: list[dict]) -> str:
    """What made trips fail, one line for each side, point and error, most frequent first ("" if none)."""
    return "\n".join(
        f"  {side}, D={point['drivers']}: {count} × {error}"
        for point in points
        for side in ("floor", "taxi")
        for error, count in Counter(point[side]["errors"]).most_common()
    )


def write_json(path: str, document: dict) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, allow_nan=True)
        out.write("\n")
