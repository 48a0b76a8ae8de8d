"""Start the real thing: `taxi run` on a free port with its own database, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psutil

from taxi.ports import free_port, port_open

TAXI = str(Path(sys.executable).with_name("taxi"))
START_TIMEOUT = 90
BACKEND_READY = "backend ready"


class RunningNode:
    def __init__(self, database_url: str, workdir: Path, *extra_args: str, port: int | None = None):
        """On `port`, or a free one; a restarted node takes its predecessor's, as a server would."""
        self.database_url = database_url
        self.port = port or free_port()
        self.log_path = workdir / f"taxi-run-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [TAXI, "run", "--port", str(self.port), "--database-url", database_url, *extra_args],
            cwd=workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown can reach every child
        )

    def wait_until_serving(self, backends: int = 1) -> None:
        """Serving: the port accepts connections and every backend has registered its procedures."""

        def serving():
            if self.process.poll() is not None:
                raise AssertionError(f"taxi run exited with {self.process.returncode}\n{self.log_tail()}")
            return self.log_count(BACKEND_READY) >= backends and port_open(self.port)

        wait_until(serving, START_TIMEOUT, "taxi run to serve", self)

    def processes(self) -> list[psutil.Process]:
        """`taxi run` and everything it started: the router node, its workers, the backends."""
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]

    def backend_processes(self) -> list[psutil.Process]:
        return [p for p in self.processes() if "components.backend" in p.cmdline()]

    def log_count(self, text: str) -> int:
        return self.log_path.read_text(errors="replace").count(text)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C, as a user stops it; anything left after `timeout` is killed (and that is reported)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        return self.process.returncode


@contextmanager
def serving_node(database_url: str, workdir: Path) -> Iterator[RunningNode]:
    """A `taxi run` that serves for the duration, then gets Ctrl-C, which must stop it cleanly."""
    node = RunningNode(database_url, workdir)
    try:
        node.wait_until_serving()
        yield node
    finally:
        returncode = node.stop()
    assert returncode == 0, f"taxi run did not stop cleanly on Ctrl-C\n{node.log_tail()}"


def wait_until(predicate, timeout: float, what: str, node: RunningNode | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{node.log_tail()}" if node else ""))
