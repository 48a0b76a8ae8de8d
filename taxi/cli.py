"""The `taxi` command: run | migrate | backend | router | keygen | bench | history."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from twisted.logger import Logger, LogLevel

from components.logs import UnknownLogLevel, log_level, start_logging
from components.process import serve
from taxi_bench.args import add_arguments as add_bench_arguments
from taxi_core.backend_keys import BackendKeysUnusable, read_keys_file
from taxi_core.config import Settings
from taxi_core import trip_log
from taxi_core.db import Database, DatabaseUnusable, check_database
from taxi_core.domain import TripNotFound
from taxi_core.migrate import Migration, migrate

from .messages import backend_port_taken, explain, migration_done, port_taken, web_bundle_missing
from .keygen import DEFAULT_PATH as DEFAULT_KEY_PATH
from .node_config import TLSUnusable, check_tls
from .ports import can_listen, free_port

# Named, not taken from the module, which is __main__ under `python -m taxi.cli` (components/logs.py).
log = Logger(namespace="taxi.cli")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="taxi", description="Real-time ride-hailing dispatch on WAMP.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, then run the router and the backend in the foreground")
    run.add_argument("--backends", type=int, default=1, help="backend processes sharing the procedures")
    migrate_cmd = commands.add_parser("migrate", help="apply the database migrations and exit")
    history = commands.add_parser("history", help="print a trip's events, oldest first (for an operator)")
    history.add_argument("nk", help="the trip's nk")
    for sub in (run, migrate_cmd, history):
        sub.add_argument("--database-url", help="SQLAlchemy URL (default: $TAXI_DATABASE_URL or sqlite:///taxi.sqlite3)")
    backend = commands.add_parser("backend", help="run one backend process (settings from the environment)")
    backend.add_argument(
        "--router",
        help="join the router at this URL, rs://HOST:PORT (its TAXI_BACKEND_PORT; rss:// for TLS), with the "
        "key in TAXI_BACKEND_KEY_FILE (default: $TAXI_BACKEND_ROUTER, or the Unix socket TAXI_BACKEND_SOCKET)",
    )
    keygen = commands.add_parser("keygen", help="write a key pair with which a backend joins a router on another host")
    keygen.add_argument("path", nargs="?", default=DEFAULT_KEY_PATH, help=f"the private key's file (default: {DEFAULT_KEY_PATH}); the public key goes to PATH.pub")
    router = commands.add_parser(
        "router",
        help="run only the router; backends join it with `taxi backend` "
        "(every process with the same TAXI_BACKEND_SOCKET and TAXI_BACKEND_TICKET)",
    )
    for sub in (run, router):
        sub.add_argument("--port", type=int, help="HTTP and WebSocket port (default: $TAXI_PORT or 8080)")
        sub.add_argument(
            "--proxies", type=_count, default=0,
            help="Crossbar proxy nodes that serve the public port in front of the router worker, "
            "sharing it (default 0: the router worker serves it)",
        )  # fmt: skip
        sub.add_argument(
            "--verbose",
            action="store_true",
            help="also the libraries' informational lines (Crossbar, Autobahn, Twisted); "
            "TAXI_LOG_LEVEL=debug|info|warn|error chooses the level",
        )
    bench = commands.add_parser("bench", help="benchmark the dispatch workload against the router's own floor")
    add_bench_arguments(bench)
    return parser.parse_args(argv)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of proxies (0 or more): {text!r}")
    return int(text)


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        command(args)
    except (DatabaseUnusable, UnknownLogLevel, BackendKeysUnusable, TLSUnusable) as problem:
        # A start that cannot happen is one line saying why, never a traceback.
        sys.exit(f"taxi: {explain(problem)}")


def command(args) -> None:
    if args.command == "bench":
        from taxi_bench.cli import main as bench_main

        return bench_main(args)
    if args.command == "backend":
        return backend(args.router)
    if args.command == "keygen":
        return keygen(args.path)
    if args.command == "history":
        return print_history(Settings.from_environ(database_url=args.database_url).database_url, args.nk)
    level = log_level(verbose=getattr(args, "verbose", False))
    settings = Settings.from_environ(database_url=getattr(args, "database_url", None), port=getattr(args, "port", None))
    if args.command != "migrate":
        settings = with_backend_keys(settings)
        from taxi.supervisor import CROSSBAR_CONFIG

        backend_tls = check_tls(CROSSBAR_CONFIG, os.environ)  # files taxi cannot use: one line, not a traceback
        # Crossbar would print a page of traceback, and be started again, and again.
        if not can_listen(settings.port):
            sys.exit(f"taxi: {port_taken(settings.port)}")
        if settings.backend_port and not can_listen(settings.backend_port):
            sys.exit(f"taxi: {backend_port_taken(settings.backend_port)}")
    if args.command == "router":
        return router(settings, level, args.proxies, backend_tls)
    migration = migrate(settings.database_url)
    if args.command == "migrate":
        print(f"taxi: {migration_done(migration)}", flush=True)
        return None
    return run(settings, args.backends, level, migration, proxies=args.proxies, backend_tls=backend_tls)


def backend(router: str | None) -> None:
    from components.backend import main as backend_main
    from components.backend_link import link_for

    settings = Settings.from_environ(backend_router=router)
    check_database(settings.database_url)
    try:
        link_for(settings)  # a router URL or a key the backend cannot use: one line, before it starts
    except ValueError as problem:
        sys.exit(f"taxi backend: {problem}")
    return backend_main(router=router)


def keygen(path: str) -> None:
    from .keygen import KeyFileExists, usage, write_key_pair

    try:
        public = write_key_pair(path)
    except (KeyFileExists, OSError) as problem:
        sys.exit(f"taxi keygen: {problem}")
    print(usage(path, public))


def with_backend_keys(settings: Settings) -> Settings:
    """The keys the router lets in over TCP: TAXI_BACKEND_KEYS's and, read here once, the file's."""
    if not settings.backend_keys_file:
        return settings
    listed = settings.backend_keys + read_keys_file(settings.backend_keys_file)
    return replace(settings, backend_keys=tuple(dict.fromkeys(listed)))


def print_history(database_url: str, nk: str) -> None:
    """One line an event; an unknown trip is one line and exit status 1."""
    check_database(database_url)
    database = Database.from_url(database_url, pool_size=1)
    try:
        events = trip_log.history(database, nk)
    except TripNotFound:
        sys.exit(f"taxi history: no trip {nk}")
    finally:
        database.dispose()
    for event in events:
        print(history_line(event))


def history_line(event: dict) -> str:
    """One event (taxi_core.views.event_view): seq, time, status, who, from which WAMP session."""
    actor = event["actor"]
    who = actor["role"] if actor["authid"] is None else f"{actor['role']} {actor['authid']}"
    session = f"  session {event['session']}" if event["session"] is not None else ""
    return f"{event['seq']:>3}  {event['created']}  {event['status']:<11}  {who}{session}"


def router(settings: Settings, level: LogLevel, proxies: int = 0, backend_tls: bool = False) -> None:
    """The router alone, kept alive like `taxi run` keeps it; the backends run on their own."""
    missing = [name for name in ("TAXI_BACKEND_SOCKET", "TAXI_BACKEND_TICKET") if not os.environ.get(name)]
    if missing and settings.backend_keys and len(missing) == 2:
        # Only backends on other hosts, over TCP: the socket is the run's own, as `taxi run` makes it.
        return run(settings, 0, level, proxies=proxies, backend_tls=backend_tls)
    if missing:
        sys.exit(
            f"taxi router: set {' and '.join(missing)}, the same for the router and every `taxi backend` "
            "(or list backend keys in TAXI_BACKEND_KEYS_FILE for backends that join over TCP)"
        )
    # Crossbar reads a relative socket path from its own node directory, the backends from
    # their working directory: make it one path for both.
    settings = replace(settings, backend_socket=os.path.abspath(settings.backend_socket))
    run(settings, 0, level, shared_backend_transport=True, proxies=proxies, backend_tls=backend_tls)


def run(
    settings: Settings,
    backends: int,
    level: LogLevel,
    migration: Migration | None = None,
    shared_backend_transport: bool = False,
    proxies: int = 0,
    backend_tls: bool = False,
) -> None:
    """The node in the foreground until Ctrl-C (or SIGTERM), which stops it and exits 0.
    `backend_tls`: the backend port speaks TLS (check_tls's answer), so backends join it by rss://."""
    from taxi.supervisor import WEB_BUNDLE, TaxiNode

    start_logging(level, timestamps=True)
    if migration is not None:
        say(migration_done(migration))
    say(f"web app  http://127.0.0.1:{settings.port}/")
    say(f"WAMP     ws://127.0.0.1:{settings.port}/ws")
    if settings.backend_keys:
        settings = replace(settings, backend_port=settings.backend_port or free_port())
        keys = len(settings.backend_keys)
        scheme = "rss" if backend_tls else "rs"
        say(f"backends {scheme}://{settings.backend_host}:{settings.backend_port} (cryptosign, {keys} key{'s' * (keys != 1)} listed)")
    if shared_backend_transport:
        say(f"starting the router; backends join it at {settings.backend_socket} (`taxi backend`)")
    elif not backends:
        say("starting the router; backends join it over TCP (`taxi backend --router URL`)")
    else:
        say(f"starting the router and {backends} backend{'s' * (backends != 1)}")
    if proxies:
        say(f"{proxies} prox{'ies' if proxies != 1 else 'y'} serve port {settings.port} in front of the router")
    if not WEB_BUNDLE.is_file():
        log.warn("taxi: {message}", message=web_bundle_missing(Path(str(WEB_BUNDLE))))
    serve(
        lambda reactor: TaxiNode(
            reactor, settings, backends=backends, shared_backend_transport=shared_backend_transport, level=level,
            proxies=proxies,
        ),
        on_stopped=lambda: say("stopped"),
    )


def say(message: str) -> None:
    log.info("taxi: {message}", message=message)


if __name__ == "__main__":
    main()
