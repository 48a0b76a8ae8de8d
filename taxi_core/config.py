"""Settings read from the environment once, at start-up (never at import)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from typing import Mapping

from .devices import DevicePolicy
from .backend_keys import parse_keys
from .dispatch import Policy

DEFAULT_DATABASE_URL = "sqlite:///taxi.sqlite3"
DEFAULT_PORT = 8080
DEFAULT_RETAIN_GRACE_SECONDS = 600.0
# The metrics are for the operator's Prometheus, not the public (docs/operations.md).
DEFAULT_METRICS_HOST = "127.0.0.1"
# Backends on other hosts join on TAXI_BACKEND_PORT, bound here unless told otherwise: a router
# is reachable from other hosts only where its operator opened it (README, "Backends on other hosts").
DEFAULT_BACKEND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    port: int = DEFAULT_PORT
    # The bounded thread pool and the engine's connection pool have the same size, so a
    # thread never waits for a connection while holding the pool slot another thread needs.
    db_pool_size: int = 8
    # Where the backend meets the router, and the credential that makes it "backend" there.
    # `taxi run` makes both fresh for each run; a separately run router and backends share them.
    backend_socket: str = "backend.sock"
    backend_ticket: str = ""
    # Backends over TCP (WAMP-cryptosign): the router's side, where it listens (no port: one the
    # OS picks, on which no one needs to join) and the public keys it lets in, from
    # TAXI_BACKEND_KEYS here and TAXI_BACKEND_KEYS_FILE (read by the launcher, never here)...
    backend_port: int | None = None
    backend_host: str = DEFAULT_BACKEND_HOST
    backend_keys: tuple[str, ...] = ()
    backend_keys_file: str = ""
    # ... and the backend's side: the router's URL (rs://HOST:PORT; none: the Unix socket) and
    # the file of its private key (`taxi keygen`).
    backend_router: str = ""
    backend_key_file: str = ""
    # How long the router keeps a finished trip's retained event (components/router_retention.py).
    retain_grace_seconds: float = DEFAULT_RETAIN_GRACE_SECONDS
    # How located requests are offered to drivers (taxi_core.dispatch.Policy has the defaults).
    dispatch: Policy = Policy()
    # Where a backend serves its Prometheus metrics (components/metrics_http.py); None: nowhere.
    # `taxi run --backends N` gives backend n the port TAXI_METRICS_PORT + n - 1 (taxi/supervisor.py).
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_METRICS_HOST
    # How long a device key works after its latest login (taxi_core.devices).
    devices: DevicePolicy = DevicePolicy()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ, **overrides) -> "Settings":
        settings = cls(
            database_url=environ.get("TAXI_DATABASE_URL", DEFAULT_DATABASE_URL),
            port=int(environ.get("TAXI_PORT", DEFAULT_PORT)),
            db_pool_size=int(environ.get("TAXI_DB_POOL_SIZE", 8)),
            backend_socket=environ.get("TAXI_BACKEND_SOCKET", "backend.sock"),
            backend_ticket=environ.get("TAXI_BACKEND_TICKET", ""),
            backend_port=int(environ["TAXI_BACKEND_PORT"]) if environ.get("TAXI_BACKEND_PORT") else None,
            backend_host=environ.get("TAXI_BACKEND_HOST") or DEFAULT_BACKEND_HOST,
            backend_keys=parse_keys(environ.get("TAXI_BACKEND_KEYS", "")),
            backend_keys_file=environ.get("TAXI_BACKEND_KEYS_FILE", ""),
            backend_router=environ.get("TAXI_BACKEND_ROUTER", ""),
            backend_key_file=environ.get("TAXI_BACKEND_KEY_FILE", ""),
            retain_grace_seconds=_seconds(environ, "TAXI_RETAIN_GRACE_SECONDS", DEFAULT_RETAIN_GRACE_SECONDS),
            dispatch=_dispatch_policy(environ),
            metrics_port=_port(environ, "TAXI_METRICS_PORT"),
            metrics_host=environ.get("TAXI_METRICS_HOST", DEFAULT_METRICS_HOST),
            devices=_device_policy(environ),
        )
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _seconds(environ: Mapping[str, str], name: str, default: float, unit: str = "seconds") -> float:
    try:
        seconds = float(environ.get(name, default))
    except ValueError:
        seconds = float("nan")  # refused below, with the variable's name
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be a number of {unit}, 0 or more (got {environ[name]!r})")
    return seconds


def _port(environ: Mapping[str, str], name: str) -> int | None:
    if not environ.get(name, "").strip():
        return None
    port = int(environ[name])
    if not 0 < port < 65536:
        raise ValueError(f"{name} must be a TCP port, 1 to 65535 (got {environ[name]!r})")
    return port


def _dispatch_policy(environ: Mapping[str, str]) -> Policy:
    default = Policy()
    batch = int(environ.get("TAXI_OFFER_BATCH", default.batch))
    if batch < 1:
        raise ValueError(f"TAXI_OFFER_BATCH must be 1 or more (got {environ['TAXI_OFFER_BATCH']!r})")
    return Policy(
        batch=batch,
        offer_seconds=_seconds(environ, "TAXI_OFFER_SECONDS", default.offer_seconds),
        max_km=_seconds(environ, "TAXI_DISPATCH_MAX_KM", default.max_km, unit="kilometres"),
        request_timeout_seconds=_seconds(environ, "TAXI_REQUEST_TIMEOUT_SECONDS", default.request_timeout_seconds),
        stale_seconds=_seconds(environ, "TAXI_DRIVER_STALE_SECONDS", default.stale_seconds),
    )


def _device_policy(environ: Mapping[str, str]) -> DevicePolicy:
    days = _seconds(environ, "TAXI_DEVICE_TTL_DAYS", DevicePolicy().ttl / dt.timedelta(days=1), unit="days")
    return DevicePolicy(ttl=dt.timedelta(days=days))
