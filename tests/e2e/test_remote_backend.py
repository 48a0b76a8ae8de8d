"""Backends on other hosts: a `taxi router` with a keys file and no backend of its own, and a
`taxi backend --router rs://...` that joins it over TCP with its key (WAMP-cryptosign), as a
backend on another machine does (README, "Backends on other hosts"); Node's remote=True.

Through it, riders and drivers live the seed's story (the seed's twins, on PostgreSQL, the
database more than one host shares). Only a key the router lists becomes `backend`, exactly
that role, named after its key; an unlisted key, a listed key announced by one who does not
hold it, a ticket or no credential on the backend port are refused (and the public port
refuses a listed backend key: test_impersonation.py).
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
import pytest_twisted
from twisted.internet import defer, reactor

from taxi.keygen import write_key_pair
from taxi.ports import free_port
from taxi_core.backend_keys import authid_for, read_private_key

from ..support import trial
from ..support.node import TAXI, Node, wait_until
from ..support.users import Users
from ..support.wamp import connect_by_key, error_of
from .test_seed_twins import SeedTwins

pytestmark = pytest.mark.e2e

AUTHENTICATION_FAILED = "wamp.error.authentication_failed"
NOT_AUTHORIZED = "wamp.error.not_authorized"
LOGIN_TIMEOUT = 15


class SeedTwinsThroughABackendOverTCP(SeedTwins, trial.OnPostgreSQL):
    remote = True


@pytest.fixture(scope="module")
def remote_node(new_database, tmp_path_factory):
    with new_database("sqlite") as url:
        node = Node(url, tmp_path_factory.mktemp("remote"), remote=True)
        try:
            node.wait_until_serving()
            yield node
        finally:
            assert node.stop() == 0


def by_key(node, key, **login):
    return defer.ensureDeferred(connect_by_key(node.backend_url, key, **login)).addTimeout(LOGIN_TIMEOUT, reactor)


def test_the_node_runs_no_backend_of_its_own_and_its_one_backend_joined_over_tcp_by_its_key(remote_node):
    router_children = [p.cmdline() for p in remote_node.processes() if p.pid != remote_node.process.pid]
    assert not [c for c in router_children if "components.backend" in c]
    [backend_log] = [log for log in remote_node.logs if log.name.startswith("backend-1")]
    line = next(line for line in backend_log.read_text().splitlines() if "backend ready" in line)
    assert line.endswith(f"(at {remote_node.backend_url} as {authid_for(remote_node.backend_keys[0])})")
    router_log = remote_node.logs[0].read_text()
    assert f"backends rs://127.0.0.1:{remote_node.backend_port} (cryptosign, 2 keys listed)" in router_log


@pytest_twisted.ensureDeferred
async def test_a_listed_key_gets_exactly_the_backend_role_named_after_the_key_whatever_it_asks_for(remote_node):
    for asked in ({}, {"authid": "backend", "authrole": "trusted"}, {"authid": "alice", "authrole": "rider"}):
        session = await by_key(remote_node, remote_node.spare_key, **asked)
        assert (session.details.authid, session.details.authrole) == (authid_for(remote_node.backend_keys[1]), "backend")
        # The backend's rights (register a procedure), and not the router's own (its meta API).
        await session.register(lambda: None, "trip.nothing_a_client_calls")
        assert (await error_of(session.call("wamp.session.list"))).error == NOT_AUTHORIZED
        await session.close()


@pytest_twisted.ensureDeferred
async def test_an_unlisted_key_cannot_join_the_backend_port(remote_node, tmp_path):
    write_key_pair(str(tmp_path / "unlisted.key"))
    refusal = await error_of(by_key(remote_node, read_private_key(str(tmp_path / "unlisted.key"))))
    assert refusal.error == AUTHENTICATION_FAILED


@pytest_twisted.ensureDeferred
async def test_a_listed_key_announced_by_one_who_does_not_hold_it_is_refused(remote_node, tmp_path):
    write_key_pair(str(tmp_path / "mine.key"))
    impostor = by_key(remote_node, read_private_key(str(tmp_path / "mine.key")), pubkey=remote_node.backend_keys[1])
    refusal = await error_of(impostor)
    # Listed, so the router challenges it; then Crossbar checks the signature against the key (its Deny's URI).
    assert (refusal.error, refusal.args[0]) == (NOT_AUTHORIZED, "signed message has invalid signature")


@pytest_twisted.ensureDeferred
async def test_the_backend_port_takes_no_other_authentication(remote_node):
    for methods in (["anonymous"], ["ticket"], ["wampcra"], ["cryptosign-proxy"]):
        attempt = by_key(remote_node, remote_node.spare_key, authmethods=methods, authid="backend")
        refusal = await error_of(attempt)
        assert refusal.error in {"wamp.error.no_auth_method", AUTHENTICATION_FAILED, NOT_AUTHORIZED}, (methods, refusal)


def test_a_taxi_backend_with_an_unlisted_key_never_serves(remote_node, tmp_path):
    key = tmp_path / "unlisted.key"
    write_key_pair(str(key))
    backend = remote_node.start_remote_backend(key, "unlisted")
    try:
        log = remote_node.logs[-1]
        wait_until(lambda: AUTHENTICATION_FAILED in log.read_text(), 30, "the router to refuse the key", remote_node)
        assert "backend ready" not in log.read_text()
    finally:
        backend.terminate()
        backend.wait(15)


@pytest_twisted.ensureDeferred
async def test_a_rider_and_a_driver_finish_a_trip_through_the_backend_over_tcp(remote_node):
    users = Users(remote_node)
    rider, _ = await users.new("rider")
    driver, driver_user = await users.new("driver")
    alerts = await driver.events("taxi.drivers")
    trip = await rider.call("trip.request", pick_up_address="Main St 1", drop_off_address="Station")
    assert (await alerts.next())["nk"] == trip["nk"]
    events = await rider.events(f"taxi.trip.{trip['nk']}", get_retained=True)
    assert (await events.next())["status"] == "REQUESTED"
    for status in ("STARTED", "IN_PROGRESS", "COMPLETED"):
        updated = await driver.call("trip.update", nk=trip["nk"], status=status)
        assert (await events.next()) == updated
    assert updated["driver"] == driver_user and updated["status"] == "COMPLETED"
    await users.close()


# What a start that cannot happen says: one line and exit status 1, before anything runs.
def taxi(tmp_path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TAXI_DATABASE_URL": f"sqlite:///{tmp_path}/taxi.sqlite3", **environment}
    return subprocess.run([TAXI, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def one_line_failure(done: subprocess.CompletedProcess) -> str:
    assert (done.returncode, done.stdout) == (1, ""), done
    [line] = done.stderr.splitlines()
    return line


@pytest.mark.parametrize("command", ["run", "router"])
def test_a_keys_file_with_a_line_that_is_not_a_key_stops_the_start_naming_the_line(tmp_path, command):
    keys = tmp_path / "backend-keys"
    keys.write_text(f"# ours\n{'a' * 64}\nssh-ed25519 AAAAC3Nza...\n")
    line = one_line_failure(taxi(tmp_path, command, "--port", str(free_port()), TAXI_BACKEND_KEYS_FILE=str(keys)))
    assert line.startswith(f"taxi: cannot use the backend keys in {keys}: line 3: 'ssh-ed25519") and "taxi keygen" in line


def test_a_keys_file_that_is_not_there_stops_the_start(tmp_path):
    line = one_line_failure(taxi(tmp_path, "run", "--port", str(free_port()), TAXI_BACKEND_KEYS_FILE="/nowhere/keys"))
    assert line == "taxi: cannot use the backend keys in /nowhere/keys: No such file or directory"


def test_a_backend_port_that_is_taken_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_failure(taxi(tmp_path, "run", "--port", str(free_port()), TAXI_BACKEND_PORT=str(port)))
    assert line.startswith(f"taxi: port {port} is taken") and "TAXI_BACKEND_PORT" in line


@pytest.mark.parametrize(
    "router, key, expected",
    [
        ("ws://router:8080/ws", "key", "'ws://router:8080/ws' is not a router's backend port; use rs://HOST:PORT"),
        ("rs://router:8081", None, "set TAXI_BACKEND_KEY_FILE"),
        ("rs://router:8081", "/nowhere/b.key", "cannot read TAXI_BACKEND_KEY_FILE /nowhere/b.key"),
    ],
)
def test_a_backend_that_cannot_join_its_router_by_url_says_why_in_one_line(tmp_path, router, key, expected):
    if key == "key":
        write_key_pair(str(tmp_path / "b.key"))
        key = str(tmp_path / "b.key")
    environment = {"TAXI_BACKEND_KEY_FILE": key} if key else {}
    line = one_line_failure(taxi(tmp_path, "backend", "--router", router, **environment))
    assert line.startswith("taxi backend: ") and expected in line, line
