"""The database's share alone: TaxiService's trip use cases in this process, no WAMP, no threads.

    python -m taxi_bench.usecases [DATABASE_URL] [--trips N]

One rider and one driver; each trip is request, accept, IN_PROGRESS, COMPLETED. Prints the CPU
time per trip (time.process_time, so what else the machine runs moves it little) and the wall
time of each use case. For profiling and comparing changes in taxi_core (docs/benchmarks.md);
DATABASE_URL defaults to a new SQLite file, and a PostgreSQL database should be empty.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time

from argon2 import PasswordHasher

from taxi_core.db import Database
from taxi_core.domain import Role, TripStatus
from taxi_core.migrate import migrate
from taxi_core.services import TaxiService

# Sign-up hashes are not what is measured here: the cheapest argon2 parameters will do.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def measure(service: TaxiService, trips: int) -> dict:
    rider, driver = (f"{role.value}-{secrets.token_hex(4)}" for role in (Role.RIDER, Role.DRIVER))
    service.signup(username=rider, password="bench-password", role=Role.RIDER.value)
    service.signup(username=driver, password="bench-password", role=Role.DRIVER.value)
    wall = dict.fromkeys(("request", "accept", "next step"), 0.0)
    cpu_started = time.process_time()
    for _ in range(trips):
        started = time.perf_counter()
        nk = service.request_trip(rider=rider, pick_up_address="Main St 1", drop_off_address="Station",
                                  request_id=secrets.token_hex(8)).trip["nk"]  # fmt: skip
        requested = time.perf_counter()
        service.update_trip(driver=driver, nk=nk, status=TripStatus.STARTED.value)
        accepted = time.perf_counter()
        service.update_trip(driver=driver, nk=nk, status=TripStatus.IN_PROGRESS.value)
        service.update_trip(driver=driver, nk=nk, status=TripStatus.COMPLETED.value)
        completed = time.perf_counter()
        wall["request"] += requested - started
        wall["accept"] += accepted - requested
        wall["next step"] += (completed - accepted) / 2
    cpu_ms_per_trip = 1000 * (time.process_time() - cpu_started) / trips
    return {"cpu_ms_per_trip": cpu_ms_per_trip, **{f"{k} ms": 1000 * v / trips for k, v in wall.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m taxi_bench.usecases", description=__doc__.split("\n")[0])
    parser.add_argument("database_url", nargs="?", help="default: a new SQLite file")
    parser.add_argument("--trips", type=int, default=1000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='taxi-usecases-')}/taxi.sqlite3"
    migrate(url)
    database = Database.from_url(url)
    try:
        figures = measure(TaxiService(database, hasher=CHEAP_HASHER), args.trips)
    finally:
        database.dispose()
    print(f"{args.trips} trips on {database.engine.dialect.name}: "
          + ", ".join(f"{name} {value:.3f}" for name, value in figures.items()))  # fmt: skip


if __name__ == "__main__":
    main()
