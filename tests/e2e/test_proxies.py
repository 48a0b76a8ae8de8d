"""`taxi run --proxies N`: what the proxies themselves must do (crossbar_config/proxies.yaml).
Every session on the public port comes through a proxy and both proxies take their share;
/healthz is the router worker's answer; clients killed with -9, mid-session or mid-login,
leave no session in the router and no connection in a proxy (the leaks Crossbar's proxy was
known for on abrupt disconnects). The contract itself, through proxies: the *_through_proxies tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from twisted.internet import threads

from ..support import trial
from ..support.wamp import connect_backend, sleep
from .proxied import DATABASE, PROXIES
from .proxy_clients import READY
from . import test_retention  # its node: not its TestCase, which pytest would collect here again

pytestmark = pytest.mark.e2e

TRIES = 40  # connections for both proxies to have taken one: the kernel spreads them at random
CLIENTS = 6  # users the killed program logs in, and as many logins it leaves half done
SETTLED = 30  # seconds for every killed session to be gone
LINGER = 1.5  # seconds a client that left keeps its connection open: the router answers in milliseconds


class Proxies(trial.NodeTestCase):
    # The retention tests' node (`taxi router --proxies 2` and `taxi backend`): its backend
    # ticket is the tests', so they count the router's sessions as the backend does.
    database, separate, environment, proxies = DATABASE, True, test_retention.Retention.environment, PROXIES

    async def through_each_proxy(self) -> dict[int, object]:
        """A rider's session through each proxy, by its worker's pid (the proxy's WELCOME says it).
        A ticket's login: the proxy joins its authenticator's session to the router at the first."""
        rider = (await self.accounts("rider", 1))[0]
        seen = {}
        for _ in range(TRIES):
            session = await self.users.login(rider)
            seen.setdefault(session.details.authextra["x_cb_proxy_pid"], session)
            if len(seen) == PROXIES:
                break
        return seen

    async def test_every_session_comes_through_a_proxy_and_each_proxy_takes_some(self):
        proxies = await self.through_each_proxy()
        assert len(proxies) == PROXIES
        workers = {p.pid for p in self.node.processes() if "crossbar.worker.proxy" in " ".join(p.cmdline())}
        assert set(proxies) == workers
        for session in proxies.values():
            assert session.details.authextra["x_cb_proxy_node"] != session.details.authextra.get("x_cb_node")

    async def test_healthz_through_a_proxy_is_the_router_worker_s_answer(self):
        def get():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.node.port}/healthz", timeout=10) as response:
                return response.status, response.read()

        assert await threads.deferToThread(get) == (200, b"ok\n")

    async def test_clients_killed_mid_session_or_mid_login_leave_nothing_in_router_or_proxies(self):
        await self.through_each_proxy()  # each proxy's authenticator session is up, as it stays: the baseline
        backend = await connect_backend(self.node.backend_socket, self.node.backend_ticket)
        self.users.sessions.append(backend)
        before = await self.held(backend)
        riders, drivers = await self.accounts("rider", CLIENTS // 2), await self.accounts("driver", CLIENTS // 2)
        program = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.proxy_clients", str(self.node.port),
             *(user["username"] for user in riders + drivers)],
            stdout=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        assert (await threads.deferToThread(program.stdout.readline)).decode().strip() == READY
        during = await self.held(backend)
        assert during["sessions"] >= before["sessions"] + CLIENTS, (before, during)
        os.killpg(program.pid, signal.SIGKILL)
        program.wait()
        program.stdout.close()
        deadline = time.monotonic() + SETTLED
        while (after := await self.held(backend)) != before and time.monotonic() < deadline:
            await sleep(0.5)
        assert after == before, f"before the clients: {before}, with them: {during}, {SETTLED} s after kill -9: {after}"

    async def test_a_client_that_leaves_hears_the_proxy_s_goodbye_and_no_abort_after_it(self):
        # Crossbar's proxy told a client that left ABORT once its session to the router had closed,
        # if the client's connection was still open (docs/crossbar-workarounds.md #8): this client
        # keeps it open after its GOODBYE, as a slow one would.
        for proxy_pid, session in (await self.through_each_proxy()).items():
            ends = []
            session.onLeave = lambda details, ends=ends: ends.append(details.reason)
            session.leave()
            await sleep(LINGER)
            assert ends == ["wamp.close.normal"], f"the client of proxy {proxy_pid} was told {ends}"
            session.disconnect()

    async def held(self, backend) -> dict:
        """The router's sessions (its meta API) and each proxy's connections to the router worker."""
        proxies = [p for p in self.node.processes() if "crossbar.worker.proxy" in " ".join(p.cmdline())]
        return {
            "sessions": await backend.call("wamp.session.count"),
            # Its connections to the router worker, one a client session (and one its authenticator's).
            "proxy connections": sorted(len(p.net_connections(kind="unix")) for p in proxies),
        }
