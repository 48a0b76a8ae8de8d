"""Two taxi routers joined by Crossbar's router-to-router links (rlinks), for tests/e2e/test_rlinks.py:
router A with a backend (`taxi backend` on its Unix socket), router B with none, each with an rlink
to the other.

The config is taxi's own (crossbar_config/config.yaml), read and given two things more in code, so
that it can never drift from the product's: the realm's `rlinks`, and CBOR on the backend port
(linked_config says why). Each link is the one Crossbar's own
mesh test uses (crossbar test/functests/cbtests/test_cb_rlink.py): a node forwards its own (local)
registrations and subscriptions to the other node and leaves the other node's to that node's link.

How a router joins the other. An rlink's remote leg logs in with WAMP-cryptosign and the node's own
key (cbdir/key.priv; crossbar/worker/rlink.py, RLinkRemoteSession.onConnect), so it can use taxi's
TCP backend port as it is: each router lists the other's node key among its backend keys
(components/backend_keys.py) and the other joins it as `backend`. Node keys are made here, before
either starts, by Crossbar's own key code, so each can be given the other's public key.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path

import yaml
from twisted.logger import LogLevel

from components import uris
from crossbar.common.key import _maybe_generate_node_key, _parse_node_key
from taxi.node_config import write_node_config
from taxi.ports import free_port, port_open
from taxi.supervisor import CROSSBAR_CONFIG, router_command

from .node import BACKEND_READY, START_TIMEOUT, TAXI, wait_until

LINK_ID = "peer"
LINK_UP = f"router-to-router {LINK_ID} started"  # the node controller's line once both legs have joined


def linked_config(peer_backend_port: int) -> dict:
    """taxi's node config with an rlink from realm taxi to the same realm on the router whose
    backend port is `peer_backend_port` (rawsocket over TCP, as a backend on another host joins)."""
    with open(CROSSBAR_CONFIG, encoding="utf-8") as file:
        config = yaml.safe_load(file)
    [router] = config["workers"]
    [realm] = [realm for realm in router["realms"] if realm["name"] == uris.REALM]
    realm["rlinks"] = [
        {
            "id": LINK_ID,
            "realm": uris.REALM,
            "forward_local_invocations": True,
            "forward_remote_invocations": False,
            "forward_local_events": True,
            "forward_remote_events": False,
            "transport": {
                "type": "rawsocket",
                "serializer": "cbor",
                "endpoint": {"type": "tcp", "host": "127.0.0.1", "port": peer_backend_port},
                "url": f"rs://127.0.0.1:{peer_backend_port}",
            },
        }
    ]
    # The link's remote leg speaks CBOR whatever its transport's "serializer" says: rlink.py hands
    # ApplicationRunner no serializers, and Autobahn's rawsocket client then takes its default
    # (autobahn/twisted/wamp.py, ApplicationRunner.run). The backend port speaks msgpack only.
    [backend_port] = [t for t in router["transports"] if "cryptosign" in t.get("auth", {}) and t["type"] == "rawsocket"]
    backend_port["serializers"] = [*backend_port["serializers"], "cbor"]
    return config


class LinkedRouter:
    """One router (a Crossbar node of taxi's config plus the rlink), in `workdir`/`name`."""

    def __init__(self, name: str, workdir: Path, database_url: str):
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir(mode=0o700)
        self.database_url = database_url
        self.port = free_port()
        self.backend_port = free_port()
        self.backend_socket = str(self.dir / "backend.sock")
        self.backend_ticket = secrets.token_urlsafe(32)
        _maybe_generate_node_key(str(self.dir))
        self.node_key = _parse_node_key(str(self.dir / "key.pub"), private=False)["public-key-ed25519"]
        self.logs: list[Path] = []
        self.processes: list[subprocess.Popen] = []

    def start(self, peer: LinkedRouter) -> None:
        self.env = {
            **os.environ,
            "TAXI_LOG_LEVEL": "info",
            "TAXI_DATABASE_URL": self.database_url,
            "TAXI_PORT": str(self.port),
            "TAXI_BACKEND_SOCKET": self.backend_socket,
            "TAXI_BACKEND_TICKET": self.backend_ticket,
            "TAXI_BACKEND_PORT": str(self.backend_port),
            "TAXI_BACKEND_HOST": "127.0.0.1",
            "TAXI_BACKEND_KEYS": peer.node_key,  # the other router's rlink joins here as `backend`
            "TAXI_BACKEND_ROUTER": "",
            "PYTHONUNBUFFERED": "1",
        }
        source = self.dir / "linked.yaml"
        source.write_text(yaml.safe_dump(linked_config(peer.backend_port), sort_keys=False))
        config = write_node_config(str(source), str(self.dir), self.env)
        self._start("router", router_command(str(self.dir), LogLevel.info, config))

    def start_backend(self) -> None:
        self._start("backend", [TAXI, "backend"])

    def _start(self, name: str, command: list[str]) -> None:
        log = self.dir / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.processes.append(
                subprocess.Popen(command, env=self.env, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip
            )

    def log_text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs)

    def is_up(self) -> bool:
        """Serving on its port, and its link to the other router is up (both legs have joined)."""
        self._check_running()
        return port_open(self.port) and LINK_UP in self.log_text()

    def backend_ready(self) -> bool:
        self._check_running()
        return BACKEND_READY in self.log_text()

    def _check_running(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise AssertionError(f"{self.name}: {process.args} exited with {process.returncode}\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        tails = [(log, log.read_text(errors="replace").splitlines()[-lines:]) for log in self.logs]
        return "\n".join(f"--- {log}\n" + "\n".join(tail) for log, tail in tails)

    def stop(self, timeout: float = 30) -> list[int]:
        """Ctrl-C to every process it started (the router's controller stops its workers), then
        SIGKILL to the process group of any left after `timeout`; their exit codes."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return [process.returncode for process in self.processes]


class LinkedRouters:
    """A (with the backend) and B (without), each linked to the other; `stop()` stops both."""

    def __init__(self, workdir: Path, database_url: str):
        subprocess.run([TAXI, "migrate"], env={**os.environ, "TAXI_DATABASE_URL": database_url}, check=True,
                       capture_output=True)  # fmt: skip
        self.a = LinkedRouter("a", workdir, database_url)
        self.b = LinkedRouter("b", workdir, database_url)
        try:
            self.a.start(self.b)
            self.b.start(self.a)
            self._wait(lambda: self.a.is_up() and self.b.is_up(), "the two routers and their links")
            # Only now: a link that comes up finds the registrations already there with one
            # loop that stops at the first it cannot forward (rlink.py, register_current), and
            # the backend role may not register the router's own taxi.router.retained, so a
            # backend started first would leave B with whatever came before it. Registrations
            # made once the link is up are forwarded one by one (on_registration_create).
            self.a.start_backend()
            self._wait(self.a.backend_ready, "the backend on router A")
        except BaseException:
            self.stop()
            raise

    def _wait(self, predicate, what: str) -> None:
        try:
            wait_until(predicate, START_TIMEOUT, what)
        except AssertionError as timeout:
            raise AssertionError(f"{timeout}\n{self.a.tail()}\n{self.b.tail()}") from None

    def stop(self) -> list[int]:
        """Both routers and the backend, stopped; their exit codes (B's router, A's router, the backend)."""
        return self.b.stop() + self.a.stop()
