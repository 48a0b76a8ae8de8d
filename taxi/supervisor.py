"""`taxi run`: the router node and the backend process(es), kept alive as one service.

Why not Crossbar's own container workers: in the Crossbar we ship (26.10), a worker
process that dies is never started again. Its "restart" option only restarts a component
whose session closed inside a container that is still alive ("restart-always"; the
checker also accepts "restart-on-failed", which the container ignores because it looks
for "restart-failed"), and by default the node shuts down when any worker exits. So taxi
runs the backend as its own process beside the router and restarts it when it dies, with
twisted.runner.procmon, which is the well-worn tool for exactly that.

The children's lines reach the terminal through the monitor's log, already filtered by each
child at the level the launcher handed it (components/logs.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from importlib.resources import files

from twisted.application.service import MultiService
from twisted.internet import task
from twisted.internet.defer import inlineCallbacks
from twisted.logger import FilteringLogObserver, Logger, LogLevel, PredicateResult, globalLogPublisher
from twisted.runner.procmon import ProcessMonitor

from components.logs import LOG_LEVEL_VARIABLE, is_verbose, log_level
from components.process import stop_asked
from taxi_core.config import Settings

from .node_config import proxy_config, write_node_config
from .ports import free_port

CROSSBAR_CONFIG = str(files("crossbar_config") / "config.yaml")
# The web app's one dependency, Autobahn|JS, copied from npm at build time (setup.py, `make`);
# without it the page loads but cannot connect.
WEB_BUNDLE = files("crossbar_config") / "web" / "vendor" / "autobahn.min.js"
# A backend that keeps failing at start (say, its database is down) is retried at least
# this often; ProcessMonitor would otherwise back off to an hour.
MAX_RESTART_DELAY = 5
STOP_TIMEOUT = 15


def node_environment(
    settings: Settings, node_dir: str, level: LogLevel, shared_backend_transport: bool = False
) -> dict[str, str]:
    return {
        **os.environ,
        LOG_LEVEL_VARIABLE: level.name,
        "TAXI_DATABASE_URL": settings.database_url,
        "TAXI_PORT": str(settings.port),
        # `taxi router` listens where separately run backends (`taxi backend`) look for it.
        "TAXI_BACKEND_SOCKET": (
            settings.backend_socket if shared_backend_transport else os.path.join(node_dir, "backend.sock")
        ),
        # A fresh credential each run: only processes started here can become "backend".
        "TAXI_BACKEND_TICKET": settings.backend_ticket or secrets.token_urlsafe(32),
        # Read by the router worker itself (components/router_retention.py): Crossbar does not
        # substitute variables in a component's `extra`.
        "TAXI_RETAIN_GRACE_SECONDS": repr(settings.retain_grace_seconds),
        # The TCP backend port always listens (config.yaml): where it was asked to, or at a port
        # of the OS's on the loopback, and it lets in only these keys (components/backend_keys.py),
        # the file's already read by the launcher (taxi/cli.py) so that the router reads none.
        "TAXI_BACKEND_PORT": str(settings.backend_port or free_port()),
        "TAXI_BACKEND_HOST": settings.backend_host,
        "TAXI_BACKEND_KEYS": " ".join(settings.backend_keys),
        # The backends started here are on the router's host: they take the Unix socket.
        "TAXI_BACKEND_ROUTER": "",
        # Used only with proxies (crossbar_config/proxies.yaml): where they join the router
        # worker, and the router's loopback port for /healthz, which they pass requests on to.
        "TAXI_PROXY_SOCKET": os.path.join(node_dir, "proxy.sock"),
        "TAXI_HEALTH_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


def backend_environment(env: dict[str, str], n: int) -> dict[str, str]:
    """Backend n's: each serves its metrics on a port of its own, TAXI_METRICS_PORT for the
    first and the next ones up for the others (docs/operations.md)."""
    base = env.get("TAXI_METRICS_PORT", "").strip()
    return {**env, "TAXI_METRICS_PORT": str(int(base) + n - 1)} if base else env


def router_command(node_dir: str, level: LogLevel, config: str = CROSSBAR_CONFIG) -> list[str]:
    # Crossbar's level names are Twisted's (debug, info, warn, error, critical).
    return [
        sys.executable, "-c", "import crossbar; crossbar.run()",
        "start", "--cbdir", node_dir, "--config", config,
        "--loglevel", level.name, "--logformat", "none", "--color", "false",
    ]  # fmt: skip


def default_backend_command() -> list[str]:
    return [sys.executable, "-m", "components.backend"]


class TaxiNode(MultiService):
    def __init__(
        self,
        reactor,
        settings: Settings,
        backends: int = 1,
        backend_command: list[str] | None = None,
        shared_backend_transport: bool = False,
        level: LogLevel | None = None,
        environment: dict[str, str] | None = None,
        proxies: int = 0,
    ):
        """`backend_command` replaces the backend process (the benchmark runs its stub this way).

        `taxi router` is this with no backends and `shared_backend_transport`: the backend
        socket and ticket are the environment's, shared with backends run on their own.
        `level` is what the children log (default: TAXI_LOG_LEVEL's; components/logs.py).
        `environment`: more variables for the children, over this process's own (the city
        benchmark's node keeps drivers fresh longer than the default this way).
        """
        super().__init__()
        # The node directory holds the router's keys, pid file and the backend socket;
        # mkdtemp makes it 0700, so no other local user can reach the socket.
        self.node_dir = tempfile.mkdtemp(prefix="taxi-node-")
        self._reactor = reactor
        self.level = level or log_level()
        self._stopping = False
        self.monitor = ProcessMonitor(reactor)
        self.monitor.maxRestartDelay = MAX_RESTART_DELAY
        self.monitor.log = Logger(observer=FilteringLogObserver(globalLogPublisher, [self._worth_relaying]))
        self.monitor.setServiceParent(self)
        env = {**node_environment(settings, self.node_dir, self.level, shared_backend_transport), **(environment or {})}
        # Where and how the backend joins the router, for a program that joins as the backend too.
        self.backend_socket, self.backend_ticket = env["TAXI_BACKEND_SOCKET"], env["TAXI_BACKEND_TICKET"]
        self.backend_port = int(env["TAXI_BACKEND_PORT"])
        config = write_node_config(CROSSBAR_CONFIG, self.node_dir, env, proxies)
        self.monitor.addProcess("router", router_command(self.node_dir, self.level, config), env=env)
        for n in range(1, proxies + 1):
            proxy = proxy_config(self.node_dir, n)
            self.monitor.addProcess(f"proxy-{n}", router_command(os.path.dirname(proxy), self.level, proxy), env=env)
        for n in range(1, backends + 1):
            command = backend_command or default_backend_command()
            self.monitor.addProcess(f"backend-{n}", command, env=backend_environment(env, n))

    def _worth_relaying(self, event) -> PredicateResult:
        """Every child's lines, but for blank ones and Crossbar's word on its own orderly shutdown.

        Blank lines carry nothing, and come unasked: Crossbar prints one at start at any level,
        and ProcessMonitor adds one for every child that ends (procmon.LoggingProtocol compares
        data[-1], an int, with b"\n"). Crossbar logs its shutdown at warn ("Controller received
        SIGINT", "Native worker received SIGTERM", "cannot detach session": crossbar/node/
        controller.py, worker/controller.py, router/session.py): a stop that was asked for is
        not news."""
        if "line" in event and not event["line"].strip():
            return PredicateResult.no
        stopping = self._stopping or stop_asked()
        crossbar = event.get("tag") == "router" or str(event.get("tag")).startswith("proxy-")
        if stopping and crossbar and not is_verbose(self.level):
            return PredicateResult.no
        return PredicateResult.maybe

    @inlineCallbacks
    def stopService(self):
        if self._stopping:
            return
        self._stopping = True
        yield super().stopService()
        # ProcessMonitor sends SIGTERM and returns at once; wait for the children to go
        # so that Ctrl-C leaves nothing running behind.
        for _ in range(STOP_TIMEOUT * 10):
            if not self.monitor.protocols:
                break
            yield task.deferLater(self._reactor, 0.1, lambda: None)
        # The directory held this run's node keys and socket; the next run makes its own.
        shutil.rmtree(self.node_dir, ignore_errors=True)
