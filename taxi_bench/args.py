"""`taxi bench`'s arguments (kept apart, so that `taxi --help` need not import the benchmark)."""

from __future__ import annotations

import argparse

SWEEP_DRIVERS = (10, 100, 1000)

CITY_SWEEP_DRIVERS = (100, 1000, 3000)
CITY_SWEEP_PLOT = "city-sweep.png"
CITY_DEFAULTS = {"rate": 2.0, "positions_seconds": 20.0, "accept_probability": 0.7, "think_seconds": 2.0,
                 "city_km": 20.0, "seed": 11}
DEFAULTS = {"drivers": 100, "riders": 10, "trips": 96, "warmup": 1}
# The soak is about what the trips leave behind, not the alerts: fewer drivers, more trips a second.
SOAK_DEFAULTS = {"drivers": 10, "riders": 10}
PLOTS = {"sweep": "bench-sweep.png", "soak": "soak-rss.png"}
DEFAULT_ROUNDS = 8  # or T, if fewer: a round has at least one trip per rider


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--drivers", type=int,
        help=f"connected drivers, D (default {DEFAULTS['drivers']}; with --soak {SOAK_DEFAULTS['drivers']})")
    add("--riders", type=int,
        help=f"riders requesting at once, R (default {DEFAULTS['riders']}; with --soak {SOAK_DEFAULTS['riders']})")
    add("--trips", type=int, default=DEFAULTS["trips"], 
        help="trips each rider makes in turn, T (default %(default)s); with --city, the trips requested in all")
    add("--warmup", type=int, default=DEFAULTS["warmup"], help="untimed trips per rider first (default %(default)s)")
    add("--rounds", type=int,
        help=f"the timed trips are made in this many rounds, the floor's and taxi's in turn, at most T "
             f"(default {DEFAULT_ROUNDS}, or T if T is smaller)")
    add("--database-url", help="taxi's database (default: a new SQLite file in the work directory)")
    add("--url", help="run taxi's part against this running node (ws://HOST:PORT/ws); the floor still runs here")
    add("--serializer", choices=("json", "msgpack", "cbor"), default="msgpack",
        help="the clients' WAMP serializer (default %(default)s)")
    add("--json", metavar="FILE", help="write the raw figures here")
    add("--sweep", action="store_true", help=f"run for {', '.join(map(str, SWEEP_DRIVERS))} drivers and plot latency")
    add("--plot", metavar="PNG", help=f"where --sweep draws (default {PLOTS['sweep']}), --soak ({PLOTS['soak']}) or --city-sweep ({CITY_SWEEP_PLOT})")
    add("--soak", type=int, metavar="N",
        help="instead of the comparison: N trips on taxi alone, sampling the router worker's and the "
             "backend's RSS; fails if the router keeps what finished trips left (docs/reliability.md)")
    add("--grace", type=float, default=5.0, metavar="SECONDS",
        help="with --soak: the router's grace for a finished trip (TAXI_RETAIN_GRACE_SECONDS, default %(default)s)")
    add("--csv", metavar="FILE", default="soak-rss.csv", help="with --soak: the samples (default %(default)s)")
    add("--storm", type=int, metavar="N",
        help="instead of the comparison: N drivers on taxi.drivers, the router killed with kill -9 and "
             "restarted; how long until they are all back (docs/reliability.md)")
    add("--login", choices=("device", "ticket", "both"), default="device",
        help="with --storm: how the drivers log in, with device keys, tickets or both in turn (default %(default)s)")
    add("--ticket-drivers", type=int, metavar="M",
        help="with --storm and --login both: only M of the N drivers for tickets (each login an argon2 check)")
    add("--workdir", help="where the logs and the SQLite file go (default: a new temporary directory)")
    add("--proxies", type=_counts, default=(0,), metavar="N[,N...]",
        help="proxy nodes in front of each node's router worker (`taxi run --proxies N`); several, "
             "comma-separated, are run one after the other in this run, for figures that compare (default 0)")
    _add_city_arguments(parser.add_argument_group("the city (--city, --city-sweep)"))


def _add_city_arguments(group) -> None:
    add, d = group.add_argument, CITY_DEFAULTS
    add("--city", action="store_true",
        help="a simulated city instead: D drivers moving and reporting their position every 10 s, riders "
             "requesting located trips at --rate, offered to the nearest drivers batch by batch")
    add("--city-sweep", action="store_true",
        help=f"--city for {', '.join(map(str, CITY_SWEEP_DRIVERS))} drivers, and plot router CPU per trip and the latencies")
    add("--rate", type=float, default=d["rate"], help="trips requested a second, city-wide (default %(default)s)")
    add("--duration", type=float, metavar="SECONDS", help="request trips for this long instead of --trips in all")
    add("--positions-seconds", type=float, default=d["positions_seconds"],
        help="the phase of position updates only, no trips, before the trips (default %(default)s)")
    add("--accept-probability", type=float, default=d["accept_probability"],
        help="the chance a driver takes an offer he receives; one he does not take lapses (default %(default)s)")
    add("--think-seconds", type=float, default=d["think_seconds"],
        help="a driver's median think-time before he accepts (default %(default)s)")
    add("--city-km", type=float, default=d["city_km"], help="the side of the city's square (default %(default)s)")
    add("--seed", type=int, default=d["seed"], help="of the city's randomness (default %(default)s)")


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or comma-separated numbers: {text!r}") from None
    if min(counts) < 0:
        raise argparse.ArgumentTypeError("a number of proxies is 0 or more")
    return counts
