"""`taxi router` and N `taxi backend` processes started side by side, as a Procfile would run them."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path

import psutil

from e2e.node import BACKEND_READY, START_TIMEOUT, TAXI, free_port, port_open, wait_until


class SeparateNode:
    """The same face as e2e.node.RunningNode, but nothing restarts a backend that dies:
    that is the process manager's job once the processes run on their own."""

    def __init__(self, database_url: str, workdir: Path, backends: int):
        self.database_url = database_url
        self.port = free_port()
        self.workdir = workdir
        self._env = {
            **os.environ,
            "TAXI_DATABASE_URL": database_url,
            "TAXI_PORT": str(self.port),
            "TAXI_BACKEND_SOCKET": str(workdir / "backend.sock"),  # tmp_path: private to this test
            "TAXI_BACKEND_TICKET": secrets.token_urlsafe(32),
        }
        subprocess.run([TAXI, "migrate"], env=self._env, cwd=workdir, check=True, capture_output=True)
        self.logs: list[Path] = []
        self.router = self._start("router", [TAXI, "router"])
        self.backends = [self._start(f"backend-{n}", [TAXI, "backend"]) for n in range(1, backends + 1)]

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.workdir / f"{name}-{self.port}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            return subprocess.Popen(
                command, env=self._env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_until_serving(self, backends: int) -> None:
        wait_until(
            lambda: self.log_count(BACKEND_READY) >= backends and port_open(self.port), START_TIMEOUT, "to serve", self
        )

    def backend_processes(self) -> list[psutil.Process]:
        return [psutil.Process(p.pid) for p in self.backends if p.poll() is None]

    def log_count(self, text: str) -> int:
        return sum(log.read_text(errors="replace").count(text) for log in self.logs)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) for log in self.logs
        )

    def stop(self, timeout: float = 30) -> None:
        processes = [self.router, *self.backends]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the router's own children too
                process.wait()
