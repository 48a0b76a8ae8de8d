"""`taxi run`: the router node and the backend process(es), kept alive as one service.

Why not Crossbar's own container workers: in the Crossbar we ship (26.10), a worker
process that dies is never started again. Its "restart" option only restarts a component
whose session closed inside a container that is still alive ("restart-always"; the
checker also accepts "restart-on-failed", which the container ignores because it looks
for "restart-failed"), and by default the node shuts down when any worker exits. So taxi
runs the backend as its own process beside the router and restarts it when it dies, with
twisted.runner.procmon, which is the well-worn tool for exactly that.
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
from twisted.runner.procmon import ProcessMonitor

from taxi_core.config import Settings

CROSSBAR_CONFIG = str(files("crossbar_config") / "config.yaml")
# A backend that keeps failing at start (say, its database is down) is retried at least
# this often; ProcessMonitor would otherwise back off to an hour.
MAX_RESTART_DELAY = 5
STOP_TIMEOUT = 15


def node_environment(settings: Settings, node_dir: str, shared_backend_transport: bool = False) -> dict[str, str]:
    return {
        **os.environ,
        "TAXI_DATABASE_URL": settings.database_url,
        "TAXI_PORT": str(settings.port),
        # `taxi router` listens where separately run backends (`taxi backend`) look for it.
        "TAXI_BACKEND_SOCKET": (
            settings.backend_socket if shared_backend_transport else os.path.join(node_dir, "backend.sock")
        ),
        # A fresh credential each run: only processes started here can become "backend".
        "TAXI_BACKEND_TICKET": settings.backend_ticket or secrets.token_urlsafe(32),
        "PYTHONUNBUFFERED": "1",
    }


def router_command(node_dir: str) -> list[str]:
    return [
        sys.executable, "-c", "import crossbar; crossbar.run()",
        "start", "--cbdir", node_dir, "--config", CROSSBAR_CONFIG,
        "--loglevel", "info", "--logformat", "none", "--color", "false",
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
    ):
        """`backend_command` replaces the backend process (the benchmark runs its stub this way).

        `taxi router` is this with no backends and `shared_backend_transport`: the backend
        socket and ticket are the environment's, shared with backends run on their own.
        """
        super().__init__()
        # The node directory holds the router's keys, pid file and the backend socket;
        # mkdtemp makes it 0700, so no other local user can reach the socket.
        self.node_dir = tempfile.mkdtemp(prefix="taxi-node-")
        self._reactor = reactor
        self.monitor = ProcessMonitor(reactor)
        self.monitor.maxRestartDelay = MAX_RESTART_DELAY
        self.monitor.setServiceParent(self)
        env = node_environment(settings, self.node_dir, shared_backend_transport)
        self.monitor.addProcess("router", router_command(self.node_dir), env=env)
        for n in range(1, backends + 1):
            self.monitor.addProcess(f"backend-{n}", backend_command or default_backend_command(), env=env)

    @inlineCallbacks
    def stopService(self):
        yield super().stopService()
        # ProcessMonitor sends SIGTERM and returns at once; wait for the children to go
        # so that Ctrl-C leaves nothing running behind.
        for _ in range(STOP_TIMEOUT * 10):
            if not self.monitor.protocols:
                break
            yield task.deferLater(self._reactor, 0.1, lambda: None)
        # The directory held this run's node keys and socket; the next run makes its own.
        shutil.rmtree(self.node_dir, ignore_errors=True)
