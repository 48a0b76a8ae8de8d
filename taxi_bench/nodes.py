"""The nodes a benchmark runs against: one of its own (taxi's backend, or the stub for the floor),
or one already running (`--url`). Either way: its URL, and the processes to watch."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
from sqlalchemy.engine import make_url
from twisted.internet import task
from twisted.logger import formatEvent, globalLogPublisher

from taxi.supervisor import TaxiNode
from taxi.ports import free_port, port_open
from taxi_core.config import Settings
from taxi_core.migrate import migrate

BACKEND_READY = "backend ready"  # what components.backend, and the stub, log once registered
START_TIMEOUT = 90
ROUTER_WORKER = "crossbar.worker.router"
STUB_COMMAND = [sys.executable, "-m", "taxi_bench.stub"]


def _alive(processes) -> list[psutil.Process]:
    return [p for p in processes if p is not None and p.is_running()]


def router_worker_of(controller: psutil.Process) -> psutil.Process | None:
    for child in controller.children(recursive=True):
        if any(ROUTER_WORKER in part for part in child.cmdline()):
            return child
    return None


def database_processes(database_url: str) -> list[psutil.Process]:
    """The PostgreSQL server processes serving this database's connections, if it runs on this
    machine: the work the database does for taxi is part of taxi's cost (the floor has none).
    Looked for once the backend has opened its pool; one opened later is not counted."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or url.host not in (None, "localhost", "127.0.0.1"):
        return []
    found = []
    for process in psutil.process_iter(["cmdline"]):
        title = " ".join(process.info["cmdline"] or ())
        # A connection's process title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE".
        if title.startswith("postgres: ") and f" {url.database} " in title:
            found.append(process)
    return found


class LocalNode:
    """`taxi run`'s node (taxi.supervisor.TaxiNode) on a free port, in this process's reactor.

    Its children's output goes to `log_path`; it is ready when the backend (or the stub, which
    logs the same line) has registered and the public port is open. `grace`: the router's
    TAXI_RETAIN_GRACE_SECONDS (default: the environment's); `environment`: more variables for
    its processes. Once started, `backend_socket` and `backend_ticket` let the soak join as the
    backend too. `proxies`: proxy nodes in front of the router worker (`taxi run --proxies N`).
    """

    def __init__(self, reactor, *, database_url: str, log_path: Path, floor: bool, grace: float | None = None,
                 environment: dict[str, str] | None = None, proxies: int = 0):  # fmt: skip
        self._reactor = reactor
        self.floor = floor
        self.database_url = database_url
        self.grace = grace
        self.environment = environment
        self.proxies = proxies
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.log_path = log_path
        self._log = open(log_path, "a", encoding="utf-8")
        self._ready_lines = 0
        self._node: TaxiNode | None = None

    def _observe(self, event) -> None:
        if "tag" in event and "line" in event:
            line = f"[{event['tag']}] {event['line']}"
            self._ready_lines += BACKEND_READY in event["line"] and event["tag"].startswith("backend")
        else:
            line = formatEvent(event)
        self._log.write(line + "\n")

    async def start(self) -> None:
        if not self.floor:
            migrate(self.database_url)
        settings = Settings.from_environ(
            database_url=self.database_url, port=self.port, retain_grace_seconds=self.grace
        )
        globalLogPublisher.addObserver(self._observe)
        self._node = TaxiNode(self._reactor, settings, backend_command=STUB_COMMAND if self.floor else None,
                              environment=self.environment, proxies=self.proxies)  # fmt: skip
        self._node.startService()
        deadline = time.monotonic() + START_TIMEOUT
        while not (self._ready_lines and port_open(self.port)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {'floor' if self.floor else 'taxi'} node did not start within {START_TIMEOUT}s; "
                                   f"the end of {self.log_path}:\n{self._log_tail()}")  # fmt: skip
            await task.deferLater(self._reactor, 0.1, lambda: None)

    @property
    def backend_socket(self) -> str:
        return self._node.backend_socket

    @property
    def backend_ticket(self) -> str:
        return self._node.backend_ticket

    def _log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def processes(self) -> dict[str, list[psutil.Process]]:
        protocols = self._node.monitor.protocols

        def process(name):
            protocol = protocols.get(name)
            return psutil.Process(protocol.transport.pid) if protocol and protocol.transport.pid else None

        controller = process("router")
        backends = [process(name) for name in protocols if name.startswith("backend")]
        # Each proxy node: its controller, and its one worker, the proxy, which does the work.
        proxy_controllers = _alive([process(name) for name in protocols if name.startswith("proxy-")])
        return {
            "router": _alive([router_worker_of(controller) if controller else None]),
            "proxy": [worker for proxy in proxy_controllers for worker in proxy.children()],
            "controller": _alive([controller, *proxy_controllers]),
            "backend": _alive(backends),
            "database": database_processes(self.database_url),
        }

    async def stop(self) -> None:
        if self._node is not None:
            await self._node.stopService()
        globalLogPublisher.removeObserver(self._observe)
        self._log.close()


class RemoteNode:
    """A node someone else runs (`--url`): its processes are found from the port, if they are local."""

    floor = False

    def __init__(self, url: str):
        self.url = url
        self.database_url = "(the running node's)"

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def processes(self) -> dict[str, list[psutil.Process]]:
        port = urlparse(self.url).port or 80
        try:
            listening = [
                c.pid for c in psutil.net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
            ]  # fmt: skip
        except psutil.AccessDenied:
            listening = []
        if not listening:
            return {"router": [], "controller": [], "backend": []}
        worker = psutil.Process(listening[0])
        controller = worker.parent()
        supervisor = controller.parent() if controller else None
        siblings = supervisor.children() if supervisor else []
        backends = [p for p in siblings if any("components.backend" in part for part in p.cmdline())]
        return {"router": [worker], "controller": _alive([controller]), "backend": backends}
