"""What an operator's load balancer and Prometheus see of a real node (docs/operations.md):
GET /healthz on the public port, 200 while a backend serves and the database answers, 503 with
the reason when the backend is gone or the database does not answer; and a backend's metrics
on TAXI_METRICS_PORT, whose counters move with the calls clients make.

The nodes are the tests' own (`taxi router` and `taxi backend` apart, as a process manager runs
them, so that nothing restarts a backend the test kills), because the tests break them."""

from __future__ import annotations

import re
import time

import pytest
import pytest_twisted
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from twisted.internet import reactor
from twisted.web.client import Agent, readBody

from components.router_health import NO_BACKEND, UNREACHABLE
from taxi.ports import free_port
from taxi_core.db import engine_url

from ..support.databases import BACKENDS
from ..support.node import Node
from ..support.users import Users
from ..support.wamp import error_of, sleep

pytestmark = pytest.mark.e2e

WAIT = 30  # seconds for the router to notice a backend gone, or a backend its database


async def http_get(url: str) -> tuple[int, str]:
    response = await Agent(reactor).request(b"GET", url.encode())
    return response.code, (await readBody(response)).decode()


async def eventually(url: str, expected: tuple[int, str]) -> tuple[int, str]:
    """GET `url` until it answers `expected`, or WAIT is over; the last answer."""
    deadline = time.monotonic() + WAIT
    answer = await http_get(url)
    while answer != expected and time.monotonic() < deadline:
        await sleep(0.5)
        answer = await http_get(url)
    return answer


def samples(page: str) -> dict[str, float]:
    """Prometheus' text format: 'name{labels} value' lines, by 'name{labels}'."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\S+) (\S+)$", page, re.M)}


@pytest.fixture(params=BACKENDS)
def node(request, new_database, tmp_path):
    metrics_port = free_port()
    with new_database(request.param) as url:
        node = Node(url, tmp_path, separate=True, environment={"TAXI_METRICS_PORT": str(metrics_port)})
        node.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        node.healthz_url = f"http://127.0.0.1:{node.port}/healthz"
        try:
            node.wait_until_serving()
            yield node
        finally:
            node.stop()


@pytest_twisted.ensureDeferred
async def test_healthz_is_ok_while_a_backend_serves_and_its_database_answers(node):
    assert await http_get(node.healthz_url) == (200, "ok\n")


@pytest_twisted.ensureDeferred
async def test_healthz_is_503_no_backend_once_the_only_backend_is_killed(node):
    [backend] = node.backend_processes()
    backend.kill()
    assert await eventually(node.healthz_url, (503, NO_BACKEND + "\n")) == (503, NO_BACKEND + "\n")


# PostgreSQL only: an open SQLite connection keeps its file, whatever is done to the path.
@pytest.mark.parametrize("node", ["postgresql"], indirect=True)
@pytest_twisted.ensureDeferred
async def test_healthz_is_503_database_unreachable_while_postgresql_refuses_the_database_then_ok_again(node):
    url = make_url(node.database_url)
    server = create_engine(engine_url(str(url.set(database="postgres"))), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = url.database
    with server.connect() as connection:
        # New connections are refused, and the backend's open ones are ended: a database gone away.
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        connection.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    try:
        assert await eventually(node.healthz_url, (503, UNREACHABLE + "\n")) == (503, UNREACHABLE + "\n")
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        server.dispose()
    assert await eventually(node.healthz_url, (200, "ok\n")) == (200, "ok\n")


@pytest_twisted.ensureDeferred
async def test_a_scrape_after_a_few_calls_shows_them_by_procedure_and_outcome_with_sessions_and_trips(node):
    before = samples((await http_get(node.metrics_url))[1])
    users = Users(node)
    try:
        rider, _ = await users.new("rider")
        driver, _ = await users.new("driver")
        trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
        await driver.call("trip.update", nk=trip["nk"], status="STARTED")
        taken = await error_of(driver.call("trip.update", nk=trip["nk"], status="STARTED"))
        refused = await error_of(rider.call("trip.get", nk="not-a-key"))
        code, page = await http_get(node.metrics_url)
    finally:
        await users.close()
    assert (taken.error, refused.error) == ("taxi.error.invalid_transition", "taxi.error.invalid_argument")
    assert code == 200
    after = samples(page)

    def moved(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert moved('taxi_calls_total{outcome="ok",procedure="user.signup"}') == 2
    assert moved('taxi_calls_total{outcome="ok",procedure="trip.request"}') == 1
    assert moved('taxi_calls_total{outcome="ok",procedure="trip.update"}') == 1
    assert moved('taxi_calls_total{outcome="taxi.error.invalid_transition",procedure="trip.update"}') == 1
    assert moved('taxi_calls_total{outcome="taxi.error.invalid_argument",procedure="trip.get"}') == 1
    assert moved('taxi_call_seconds_count{procedure="trip.update"}') == 2
    assert after['taxi_call_seconds_sum{procedure="trip.request"}'] > 0
    assert after['taxi_sessions{role="rider"}'] == 1 and after['taxi_sessions{role="driver"}'] == 1
    assert after['taxi_sessions{role="backend"}'] == 1
    assert after['taxi_trips{status="STARTED"}'] == 1
    assert after['taxi_scrape_ok{source="database"}'] == after['taxi_scrape_ok{source="router"}'] == 1


@pytest_twisted.ensureDeferred
async def test_each_backend_of_taxi_run_serves_its_own_metrics_and_together_they_count_every_call(new_database, tmp_path):
    first = free_port()
    with new_database("sqlite") as url:
        node = Node(url, tmp_path, "--backends", "2", backends=2, environment={"TAXI_METRICS_PORT": str(first)})
        try:
            await node.serving()
            users = Users(node)
            rider, _ = await users.new("rider")
            for n in range(4):
                await rider.call("trip.request", pick_up_address=f"A{n}", drop_off_address="B")
            await users.close()
            pages = [samples((await http_get(f"http://127.0.0.1:{port}/metrics"))[1]) for port in (first, first + 1)]
        finally:
            node.stop()
    served = [page.get('taxi_calls_total{outcome="ok",procedure="trip.request"}', 0) for page in pages]
    assert sum(served) == 4 and all(served), served  # round-robin: both served some
    assert all(page['taxi_trips{status="REQUESTED"}'] == 4 for page in pages)  # one database, one figure
