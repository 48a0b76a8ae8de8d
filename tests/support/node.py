"""Start the real thing, as a user would: `taxi run` on a free port with its own database, or
(separate=True) `taxi router` and N times `taxi backend` side by side, as a Procfile runs them.

Node is the one way every test folder starts a node. Starting it never waits: wait with
`wait_until_serving()` (blocking, for pytest's fixtures) or `await node.serving()` (on the
reactor, for trial's tests). The shared nodes, one a database for a whole run of either runner,
are in shared.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

import psutil
from twisted.internet import task

from taxi.keygen import write_key_pair
from taxi.ports import free_port, port_open
from taxi_core.backend_keys import read_private_key

TAXI = str(Path(sys.executable).with_name("taxi"))
START_TIMEOUT = 90
BACKEND_READY = "backend ready"  # what each backend says once its procedures are registered
POLL = 0.2


class Node:
    def __init__(
        self, database_url: str, workdir: Path, *run_args: str, port: int | None = None, backends: int = 1,
        separate: bool = False, remote: bool = False, environment: Mapping[str, str] | None = None,
        proxies: int = 0,
    ):  # fmt: skip
        """On `port`, or a free one (a restarted node takes its predecessor's, as a server would).

        `run_args` go to `taxi run`; `backends` is how many backends serving waits for (and, with
        separate=True, how many `taxi backend` processes start). Nothing restarts a separate
        backend that dies: that is the process manager's job once the processes run on their own.
        `environment`: settings of its own (TAXI_* variables) on top of this process's environment.

        remote=True: as separate, but the backends join over TCP, each with a key of its own
        (`taxi keygen`), as backends on other hosts do (`taxi backend --router rs://...`); the
        router lists their keys and one more, `spare_key`, which no backend uses (for the tests),
        and has no backend socket a test could join."""
        self.database_url = database_url
        self.workdir = workdir
        self.port = port or free_port()
        self.backends = backends
        self.separate = separate
        self.logs: list[Path] = []
        self.remote = remote
        self.proxies = proxies
        proxy_args = ["--proxies", str(proxies)] if proxies else []
        if remote:
            self._start_remote(environment, proxy_args)
        elif separate:
            self.backend_socket = str(workdir / "backend.sock")  # workdir: private to its test or run
            self.backend_ticket = secrets.token_urlsafe(32)
            env = {"TAXI_DATABASE_URL": database_url, "TAXI_PORT": str(self.port),
                   "TAXI_BACKEND_SOCKET": self.backend_socket, "TAXI_BACKEND_TICKET": self.backend_ticket}  # fmt: skip
            self._env = {**os.environ, **(environment or {}), **env}
            subprocess.run([TAXI, "migrate"], env=self._env, cwd=workdir, check=True, capture_output=True)
            self.process = self._start("router", [TAXI, "router", *proxy_args])
            self._backends = [self._start(f"backend-{n}", [TAXI, "backend"]) for n in range(1, backends + 1)]
        else:
            self._env = {**os.environ, **environment} if environment else None
            self._backends = []
            command = [TAXI, "run", "--port", str(self.port), "--database-url", database_url, *proxy_args, *run_args]
            self.process = self._start("taxi-run", command)

    def _start_remote(self, environment: Mapping[str, str] | None, proxy_args: list[str]) -> None:
        self.backend_port = free_port()
        # With TLS (TAXI_BACKEND_TLS_*), by the name its certificate is for.
        tls = "TAXI_BACKEND_TLS_CERTIFICATE" in (environment or {})
        self.backend_url = f"rss://localhost:{self.backend_port}" if tls else f"rs://127.0.0.1:{self.backend_port}"
        keys = [self.workdir / f"backend-{n}.key" for n in range(1, self.backends + 1)]
        publics = [write_key_pair(str(key)) for key in (*keys, self.workdir / "spare.key")]
        self.spare_key = read_private_key(str(self.workdir / "spare.key"))
        self.backend_keys = publics
        listed = self.workdir / "backend-keys"
        listed.write_text("# the backends of this test's node, and a spare\n" + "\n".join(publics) + "\n")
        env = {"TAXI_DATABASE_URL": self.database_url, "TAXI_PORT": str(self.port),
               "TAXI_BACKEND_PORT": str(self.backend_port), "TAXI_BACKEND_KEYS_FILE": str(listed)}  # fmt: skip
        self._env = {**os.environ, **(environment or {}), **env}
        subprocess.run([TAXI, "migrate"], env=self._env, cwd=self.workdir, check=True, capture_output=True)
        self.process = self._start("router", [TAXI, "router", *proxy_args])
        self._backends = [self.start_remote_backend(key, f"backend-{n}") for n, key in enumerate(keys, start=1)]

    def start_remote_backend(self, key_file: Path, name: str) -> subprocess.Popen:
        """A `taxi backend` joining this node's backend port with the private key in `key_file`."""
        env = {**self._env, "TAXI_BACKEND_KEY_FILE": str(key_file)}
        return self._start(name, [TAXI, "backend", "--router", self.backend_url], env)

    def _start(self, name: str, command: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen:
        log = self.workdir / f"{name}-{self.port}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            return subprocess.Popen(
                command, env=env or self._env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that stop() can reach every child
            )  # fmt: skip

    def is_serving(self, backends: int | None = None) -> bool:
        """The port accepts connections and `backends` backends (by default all) have registered their procedures."""
        if self.process.poll() is not None:
            raise AssertionError(f"taxi {self.process.args[1]} exited with {self.process.returncode}\n{self.log_tail()}")
        return self.log_count(BACKEND_READY) >= (backends or self.backends) and port_open(self.port)

    def wait_until_serving(self, backends: int | None = None) -> None:
        wait_until(lambda: self.is_serving(backends), START_TIMEOUT, "the node to serve", self)

    async def serving(self, backends: int | None = None) -> Node:
        """The same wait, on the reactor: it polls and never blocks."""
        from twisted.internet import reactor

        deadline = time.monotonic() + START_TIMEOUT
        while not self.is_serving(backends):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for the node to serve\n{self.log_tail()}")
            await task.deferLater(reactor, POLL, lambda: None)
        return self

    def processes(self) -> list[psutil.Process]:
        """Everything it started: `taxi run` or `taxi router`, the router node and its workers, the backends."""
        started = [psutil.Process(p.pid) for p in (self.process, *self._backends) if p.poll() is None]
        return [process for parent in started for process in (parent, *parent.children(recursive=True))]

    def backend_processes(self) -> list[psutil.Process]:
        if self.separate or self.remote:
            return [psutil.Process(p.pid) for p in self._backends if p.poll() is None]
        return [p for p in self.processes() if "components.backend" in p.cmdline()]

    def log_count(self, text: str) -> int:
        return sum(log.read_text(errors="replace").count(text) for log in self.logs)

    def log_tail(self, lines: int = 60) -> str:
        tails = [(log, log.read_text(errors="replace").splitlines()[-lines:]) for log in self.logs]
        if len(tails) == 1:
            return "\n".join(tails[0][1])
        return "\n".join(f"--- {log.name}\n" + "\n".join(tail) for log, tail in tails)

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C, as a user stops it; whatever is left after `timeout` is killed. Returns the exit
        code of `taxi run` (or `taxi router`): 0 is a clean stop."""
        processes = [self.process, *self._backends]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return self.process.returncode


@contextmanager
def serving_node(database_url: str, workdir: Path, **options) -> Iterator[Node]:
    """A node that serves for the duration, then gets Ctrl-C, which must stop it cleanly."""
    node = Node(database_url, workdir, **options)
    try:
        node.wait_until_serving()
        yield node
    finally:
        returncode = node.stop()
    assert returncode == 0, stopped_uncleanly(node, returncode)


def stopped_uncleanly(node: Node, returncode: int) -> str:
    return f"taxi {node.process.args[1]} did not stop cleanly on Ctrl-C (exit code {returncode})\n{node.log_tail()}"


def keep_ctrl_c_for_the_nodes() -> None:
    """A shell without job control starts a background command (`make test &`) with SIGINT
    ignored, and every node a test starts would inherit that, ignore the Ctrl-C that stop()
    sends it as a user would, and fail as "did not stop cleanly". The suite plays a user at a
    terminal: Python's own handler here is reset to the default in every child. (Main thread only.)"""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_until(predicate, timeout: float, what: str, node: Node | None = None) -> None:
    """Blocks until `predicate()` holds (for sync tests and fixtures; never on the reactor)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(POLL)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{node.log_tail()}" if node else ""))
