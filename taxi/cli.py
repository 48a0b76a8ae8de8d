"""The `taxi` command: run | migrate | backend | router | bench."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from twisted.internet import task
from twisted.internet.defer import Deferred

from taxi_core.config import Settings
from taxi_core.migrate import migrate

from taxi_bench.args import add_arguments as add_bench_arguments
from components.logs import start_logging


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="taxi", description="Real-time ride-hailing dispatch on WAMP.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate, then run the router and the backend in the foreground")
    run.add_argument("--backends", type=int, default=1, help="backend processes sharing the procedures")
    migrate_cmd = commands.add_parser("migrate", help="apply the database migrations and exit")
    for sub in (run, migrate_cmd):
        sub.add_argument("--database-url", help="SQLAlchemy URL (default: $TAXI_DATABASE_URL or sqlite:///taxi.sqlite3)")
    run.add_argument("--port", type=int, help="HTTP and WebSocket port (default: $TAXI_PORT or 8080)")
    commands.add_parser("backend", help="run one backend process (settings from the environment)")
    router = commands.add_parser(
        "router",
        help="run only the router; backends join it with `taxi backend` "
        "(every process with the same TAXI_BACKEND_SOCKET and TAXI_BACKEND_TICKET)",
    )
    router.add_argument("--port", type=int, help="HTTP and WebSocket port (default: $TAXI_PORT or 8080)")
    bench = commands.add_parser("bench", help="benchmark the dispatch workload against the router's own floor")
    add_bench_arguments(bench)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "backend":
        from components.backend import main as backend_main

        return backend_main()
    if args.command == "bench":
        from taxi_bench.cli import main as bench_main

        return bench_main(args)
    if args.command == "router":
        return router(Settings.from_environ(port=args.port))
    settings = Settings.from_environ(
        database_url=args.database_url, port=getattr(args, "port", None)
    )
    migrate(settings.database_url)
    if args.command == "run":
        run(settings, args.backends)


def router(settings: Settings) -> None:
    """The router alone, kept alive like `taxi run` keeps it; the backends run on their own."""
    missing = [name for name in ("TAXI_BACKEND_SOCKET", "TAXI_BACKEND_TICKET") if not os.environ.get(name)]
    if missing:
        sys.exit(f"taxi router: set {' and '.join(missing)}, the same for the router and every `taxi backend`")
    # Crossbar reads a relative socket path from its own node directory, the backends from
    # their working directory: make it one path for both.
    run(replace(settings, backend_socket=os.path.abspath(settings.backend_socket)), 0, shared_backend_transport=True)


def run(settings: Settings, backends: int, shared_backend_transport: bool = False) -> None:
    from taxi.supervisor import TaxiNode

    start_logging(timestamps=True)

    def start(reactor):
        node = TaxiNode(reactor, settings, backends=backends, shared_backend_transport=shared_backend_transport)
        node.startService()
        reactor.addSystemEventTrigger("before", "shutdown", node.stopService)
        backend_part = (
            f"for backends joining at {settings.backend_socket}"
            if shared_backend_transport
            else f"and {backends} backend(s) on {settings.database_url}"
        )
        print(
            f"taxi: starting the router {backend_part}; "
            f"the app will be at http://127.0.0.1:{settings.port}/ and WAMP at ws://127.0.0.1:{settings.port}/ws",
            flush=True,
        )
        return Deferred()  # runs until Ctrl-C

    task.react(start)


if __name__ == "__main__":
    main()
