"""`taxi bench`'s arguments (kept apart, so that `taxi --help` need not import the benchmark)."""

from __future__ import annotations

import argparse

SWEEP_DRIVERS = (10, 100, 1000)
DEFAULTS = {"drivers": 100, "riders": 10, "trips": 32, "warmup": 1, "rounds": 4}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drivers", type=int, default=DEFAULTS["drivers"], help="connected drivers (D)")
    parser.add_argument("--riders", type=int, default=DEFAULTS["riders"], help="riders requesting at once (R)")
    parser.add_argument("--trips", type=int, default=DEFAULTS["trips"], help="trips each rider makes in turn (T)")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"],
                        help="untimed trips per rider before the timed ones")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=DEFAULTS["rounds"],
                        help="the timed trips are made in this many rounds, the floor's and taxi's in turn")  # fmt: skip
    parser.add_argument("--database-url", help="taxi's database (default: a temporary SQLite file)")
    parser.add_argument("--url", help="run taxi's part against this running node (ws://HOST:PORT/ws)")
    parser.add_argument("--serializer", choices=("json", "msgpack", "cbor"), default="msgpack",
                        help="the clients' WAMP serializer")  # fmt: skip
    parser.add_argument("--json", metavar="FILE", help="write the raw figures here")
    parser.add_argument("--sweep", action="store_true", help=f"run for {SWEEP_DRIVERS} drivers and plot latency")
    parser.add_argument("--plot", metavar="PNG", default="bench-sweep.png", help="where --sweep puts its plot")
    parser.add_argument("--workdir", help="where logs and the temporary database go (default: a new temp dir)")
