"""The city's figures from what the clients saw and what the processes cost, and their tables.

CPU per trip comes two ways. Gross: all the CPU of the trips phase over its completed trips.
Net: less what the position updates of that phase cost, at the price per update measured in
the phase of positions only; D drivers send D/10 updates a second whether or not anyone
rides, so at 3,000 drivers the gross figure is mostly theirs. The net one subtracts about ten
times what it keeps there, so a few per cent of drift in the price of an update between the
two phases is more than a trip's own cost: it is shown, not judged on.

Paused (the goal's figure): the trips again with the drivers connected but silent, less what
the processes cost idle (the router's WebSocket pings and the backend's ticks go on with
nobody calling), from idle phases just before and just after. At 3,000 drivers it still
subtracts about as much as it keeps, but what it subtracts comes evenly (the pings are spread
over their period) and is a few per cent of a CPU, not a sixth of one.
"""

from __future__ import annotations

import math

from ..report import fmt
from ..stats import latency_summary
from .audit import exact
from .ledger import Ledger

PROCESSES = ("router", "backend", "database", "bench")
SERVER = ("router", "controller", "backend", "database")
# The bench's one reactor runs every client: past these, its clients, not taxi, set the pace.
BENCH_BUSY_PERCENT = 85.0
BENCH_LAG_P99_MS = 500.0
ROUTER_GROWTH_TARGET = 1.5  # router CPU per trip at the most drivers ÷ at the fewest (issue 11)


def phase(seconds: float, locates: int, resources: dict) -> dict:
    """One phase's wall time, position updates answered, and the processes' CPU and memory."""
    cpu = dict(resources["cpu_seconds"])
    cpu["server"] = sum(cpu.get(name, 0.0) for name in SERVER)
    return {"seconds": seconds, "locates": locates, "cpu_seconds": cpu,
            "cpu_percent": resources["cpu_percent"], "rss_mb": resources["rss_mb"]}  # fmt: skip


def figures(ledger: Ledger, drivers: int, positions: dict, trips_phase: dict, audit: dict | None,
            paused: dict | None = None) -> dict:  # fmt: skip
    trips = [t for t in ledger.trips.values() if t.requested_at is not None]
    done = [t for t in trips if t.outcome == "COMPLETED"]
    expired = sum(1 for t in trips if t.outcome == "EXPIRED")
    per_update = {name: cpu / positions["locates"] if positions["locates"] else math.nan
                  for name, cpu in positions["cpu_seconds"].items()}  # fmt: skip
    driver_events = len(ledger.deliveries)
    return {
        "drivers": drivers,
        "requested": len(trips),
        "completed": len(done),
        "expired": expired,
        "unended": sum(1 for t in trips if t.outcome is None),
        "share_expired": expired / len(trips) if trips else math.nan,
        "passed_on": sum(1 for t in trips if t.rounds_offered > 1),
        "duration_s": trips_phase["seconds"],
        "throughput": len(done) / trips_phase["seconds"] if trips_phase["seconds"] else 0.0,
        "request_ms": latency_summary([t.result_at - t.requested_at for t in trips]),
        "first_offer_ms": latency_summary([t.first_offer_at - t.requested_at for t in trips if t.first_offer_at]),
        "accept_ms": latency_summary([t.accepted_at - t.requested_at for t in done if t.accepted_at]),
        "deliveries_per_trip": {
            "drivers": _per(driver_events, len(trips)),
            "riders": _per(ledger.rider_deliveries, len(trips)),
            "all": _per(driver_events + ledger.rider_deliveries, len(trips)),
        },
        "audit": audit,
        "positions": {
            "updates": positions["locates"],
            "per_second": _per(positions["locates"], positions["seconds"]),
            "locate_ms": latency_summary(ledger.locate_seconds),
            "cpu_ms_per_update": {name: 1000 * value for name, value in per_update.items()},
            "cpu_percent": positions["cpu_percent"],
        },
        "cpu_ms_per_trip": {name: 1000 * _per(cpu, len(done)) for name, cpu in trips_phase["cpu_seconds"].items()},
        "cpu_ms_per_trip_net": {
            name: 1000 * _per(cpu - per_update.get(name, 0.0) * trips_phase["locates"], len(done))
            for name, cpu in trips_phase["cpu_seconds"].items()
        },
        "paused": paused,
        "cpu_percent": trips_phase["cpu_percent"],
        "rss_mb": trips_phase["rss_mb"],
        "bench": _bench_load(ledger, positions, trips_phase),
        "accepts_lost": dict(ledger.accepts_lost),
        "errors": ledger.errors[:20],
        "error_count": len(ledger.errors),
    }


def _per(value: float, count: float) -> float:
    return value / count if count else math.nan


def _bench_load(ledger: Ledger, positions: dict, trips_phase: dict) -> dict:
    lag = latency_summary(ledger.tick_lag_seconds)
    busiest = max(p["cpu_percent"].get("bench", 0.0) for p in (positions, trips_phase))
    return {"cpu_percent_positions": positions["cpu_percent"].get("bench", math.nan),
            "cpu_percent_trips": trips_phase["cpu_percent"].get("bench", math.nan),
            "tick_lag_ms": lag, "limited": busiest > BENCH_BUSY_PERCENT or lag["p99"] > BENCH_LAG_P99_MS}  # fmt: skip


def paused(ledger: Ledger, idles: list[dict], trips_phase: dict, positions: dict) -> dict:
    """The trips with the positions paused: each process's CPU per completed trip, less its
    idle rate over the trips phase's time; and, with that idle rate, what a position update
    costs beyond what the processes cost anyway. The idle rate is the lower of the idle
    phases' (one before the trips, one after): a full garbage collection of the router's heap
    (some 0.35 s of CPU at 3,000 drivers) now and then lands in one of them, and what it adds
    is not idling."""
    trips = [t for t in ledger.trips.values() if t.requested_at is not None]
    done = sum(1 for t in trips if t.outcome == "COMPLETED")
    each = [{name: cpu / idle["seconds"] for name, cpu in idle["cpu_seconds"].items()} for idle in idles]
    idle_rate = {name: min(rates[name] for rates in each) for name in each[0]}
    cpu = trips_phase["cpu_seconds"]
    beyond_idle = {name: cpu_s - idle_rate.get(name, 0.0) * positions["seconds"]
                   for name, cpu_s in positions["cpu_seconds"].items()}  # fmt: skip
    return {
        "requested": len(trips),
        "completed": done,
        "expired": sum(1 for t in trips if t.outcome == "EXPIRED"),
        "unended": sum(1 for t in trips if t.outcome is None),
        "seconds": trips_phase["seconds"],
        "idle_seconds": [idle["seconds"] for idle in idles],
        "idle_cpu_percent": {name: 100 * rate for name, rate in idle_rate.items()},
        "idle_cpu_percent_each": [idle["cpu_percent"] for idle in idles],
        "cpu_ms_per_trip": {name: 1000 * _per(cpu[name] - idle_rate.get(name, 0.0) * trips_phase["seconds"], done)
                            for name in cpu},  # fmt: skip
        "cpu_ms_per_trip_gross": {name: 1000 * _per(value, done) for name, value in cpu.items()},
        "deliveries_per_trip": _per(len(ledger.deliveries) + ledger.rider_deliveries, len(trips)),
        "cpu_ms_per_update_beyond_idle": {name: 1000 * _per(value, positions["locates"])
                                          for name, value in beyond_idle.items()},  # fmt: skip
    }


def growth(points: list[dict]) -> dict:
    """The goal: router CPU per trip at the most drivers ÷ at the fewest, with the positions
    paused where both points have it (else net of positions); the other ratios beside it."""
    fewest, most = min(points, key=lambda p: p["drivers"]), max(points, key=lambda p: p["drivers"])

    def ratio(figure) -> float:
        return figure(most)["router"] / figure(fewest)["router"]

    result = {"from": fewest["drivers"], "to": most["drivers"], "net": ratio(lambda p: p["cpu_ms_per_trip_net"]),
              "gross": ratio(lambda p: p["cpu_ms_per_trip"]), "paused": None, "bound": ROUTER_GROWTH_TARGET}  # fmt: skip
    if fewest.get("paused") and most.get("paused"):
        result["paused"] = ratio(lambda p: p["paused"]["cpu_ms_per_trip"])
    result["judged_on"] = "net" if result["paused"] is None else "paused"
    result["met"] = result[result["judged_on"]] <= ROUTER_GROWTH_TARGET
    return result


def table(f: dict) -> str:
    rows = [
        ("trips requested / completed / expired", f"{f['requested']} / {f['completed']} / {f['expired']}"),
        ("share expired", f"{100 * f['share_expired']:.1f} %" if f["requested"] else "–"),
        ("trips passed to a later batch", str(f["passed_on"])),
        ("completed trips/s", fmt(f["throughput"], 2)),
    ]
    for name, label in (("request_ms", "trip.request call → result"), ("first_offer_ms", "request → first offer"),
                        ("accept_ms", "request → accepted")):  # fmt: skip
        rows.append((f"{label} p50 / p99 ms", f"{fmt(f[name]['p50'])} / {fmt(f[name]['p99'])}"))
    d = f["deliveries_per_trip"]
    rows.append(("router deliveries per trip: drivers / rider", f"{fmt(d['drivers'])} / {fmt(d['riders'])}"))
    rows.append(("offers reached exactly their batch", _audit_line(f["audit"])))
    for name in PROCESSES:
        if name in f["cpu_ms_per_trip"]:
            rows.append((f"{name} CPU ms per trip, net of positions (gross)",
                         f"{fmt(f['cpu_ms_per_trip_net'][name], 2)} ({fmt(f['cpu_ms_per_trip'][name], 2)})"))
    rows.extend(_paused_rows(f.get("paused")))
    p = f["positions"]
    rows.append(("position updates (per s)", f"{p['updates']} ({fmt(p['per_second'])})"))
    for name in ("backend", "router", "database"):
        if name in p["cpu_ms_per_update"]:
            beyond = (f.get("paused") or {}).get("cpu_ms_per_update_beyond_idle", {}).get(name)
            rows.append((f"{name} CPU ms per position update (beyond idle)",
                         f"{fmt(p['cpu_ms_per_update'][name], 3)} ({fmt(beyond, 3)})"))
    rows.append(("driver.locate p50 / p99 ms", f"{fmt(p['locate_ms']['p50'])} / {fmt(p['locate_ms']['p99'])}"))
    b = f["bench"]
    rows.append(("bench CPU % positions / trips; tick lag p99 ms",
                 f"{fmt(b['cpu_percent_positions'])} / {fmt(b['cpu_percent_trips'])}; {fmt(b['tick_lag_ms']['p99'])}"
                 + ("  (the bench limited the figures)" if b["limited"] else "")))  # fmt: skip
    if f["accepts_lost"]:
        rows.append(("accepts refused", ", ".join(f"{n} × {uri}" for uri, n in sorted(f["accepts_lost"].items()))))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def _paused_rows(paused: dict | None) -> list[tuple[str, str]]:
    if paused is None:
        return [("CPU ms per trip, positions paused", "not measured (a node of --url's)")]
    rows = [("trips, positions paused: requested / completed / expired",
             f"{paused['requested']} / {paused['completed']} / {paused['expired']}")]  # fmt: skip
    for name in ("router", "backend"):
        if name in paused["cpu_ms_per_trip"]:
            rows.append((f"{name} CPU ms per trip, positions paused, less idle (gross)",
                         f"{fmt(paused['cpu_ms_per_trip'][name], 2)} ({fmt(paused['cpu_ms_per_trip_gross'][name], 2)})"))
    idle = paused["idle_cpu_percent"]
    rows.append(("idle CPU %: router / backend", f"{fmt(idle.get('router'))} / {fmt(idle.get('backend'))}"))
    return rows


def _audit_line(result: dict | None) -> str:
    if result is None:
        return "not checked (no database to read the offers from)"
    verdict = "yes" if exact(result) else "NO"
    return (f"{verdict}: {result['open']} open + {result['closed']} closed events for {result['offers_made']} offers; "
            f"stray {result['stray']}, missed {result['missed']}, duplicates {result['duplicates']}, "
            f"left open {result['left_open']}")  # fmt: skip


def sweep_table(points: list[dict]) -> str:
    head = ("drivers", "trips/s", "first offer p50/p99 ms", "accept p50/p99 ms", "expired %",
            "deliveries/trip", "router ms/trip paused", "router ms/trip net (gross)", "backend ms/update",
            "exact")  # fmt: skip
    rows = [head]
    for f in points:
        rows.append((str(f["drivers"]), fmt(f["throughput"], 2),
                     f"{fmt(f['first_offer_ms']['p50'])}/{fmt(f['first_offer_ms']['p99'])}",
                     f"{fmt(f['accept_ms']['p50'])}/{fmt(f['accept_ms']['p99'])}",
                     fmt(100 * f["share_expired"]), fmt(f["deliveries_per_trip"]["all"]),
                     fmt(f["paused"]["cpu_ms_per_trip"]["router"], 2) if f.get("paused") else "–",
                     f"{fmt(f['cpu_ms_per_trip_net']['router'], 2)} ({fmt(f['cpu_ms_per_trip']['router'], 2)})",
                     fmt(f["positions"]["cpu_ms_per_update"].get("backend"), 3),
                     "–" if f["audit"] is None else ("yes" if exact(f["audit"]) else "NO")))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)
