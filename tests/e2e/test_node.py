"""The node as a whole: what `taxi run` serves, how it stops, and how it survives failures.

These tests start a node of their own, because they break it on purpose.
"""

import urllib.request

import psutil
import pytest
import pytest_twisted
from autobahn.wamp.exception import ApplicationError
from sqlalchemy import create_engine

from taxi_core.db import engine_url

from ..support.node import BACKEND_READY, wait_until
from ..support.users import PASSWORD, Users
from ..support.wamp import connect

pytestmark = pytest.mark.e2e

LEAKS = ("select", "insert", "traceback", "sqlalchemy", "psycopg", "sqlite", 'file "', "trips")


def test_web_page_is_served_at_the_root(node):
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/") as response:
        assert response.status == 200
        assert "<title>taxi</title>" in response.read().decode()


@pytest_twisted.ensureDeferred
async def test_websocket_from_a_foreign_origin_is_refused(node):
    with pytest.raises(Exception) as refused:
        await connect(node.port, origin="http://evil.example")
    assert "origin 'http://evil.example' not allowed" in str(refused.value)
    own_page = await connect(node.port, origin=f"http://127.0.0.1:{node.port}")
    assert own_page.details.authrole == "anonymous"
    own_page.leave()


def test_ctrl_c_stops_every_process_it_started(own_node):
    started = own_node.processes()
    assert len(started) >= 3  # taxi run, the router node (and its worker), the backend
    assert own_node.stop() == 0
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []


@pytest_twisted.ensureDeferred
async def test_killed_backend_is_restarted_and_serves_again(own_node):
    users = Users(own_node)
    rider, _ = await users.new("rider")
    before = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    [backend] = own_node.backend_processes()
    backend.kill()  # SIGKILL: no chance to clean up
    wait_until(lambda: own_node.log_count(BACKEND_READY) >= 2, 60, "the backend to come back", own_node)
    [restarted] = own_node.backend_processes()
    assert restarted.pid != backend.pid
    # The rider's session survived at the router; the new backend answers it.
    after = await rider.call("trip.request", pick_up_address="C", drop_off_address="D")
    assert [t["nk"] for t in await rider.call("trip.list")] == [after["nk"], before["nk"]]
    await users.close()


@pytest_twisted.ensureDeferred
async def test_unexpected_failure_is_answered_internal_without_leaking_and_service_goes_on(own_node):
    users = Users(own_node)
    rider, _ = await users.new("rider")
    engine = create_engine(engine_url(own_node.database_url))
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE trips RENAME TO trips_away")
    try:
        with pytest.raises(ApplicationError) as failed:
            await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE trips_away RENAME TO trips")
        engine.dispose()
    assert failed.value.error == "taxi.error.internal"
    assert not any(leak in str(failed.value.args).lower() for leak in LEAKS)
    assert own_node.log_count("unexpected failure in trip.request") == 1
    assert own_node.log_count("Traceback") >= 1
    trip = await rider.call("trip.request", pick_up_address="A", drop_off_address="B")
    assert trip["status"] == "REQUESTED"
    await users.close()


@pytest_twisted.ensureDeferred
async def test_logging_in_twice_with_one_password_works_after_a_wrong_one(node):
    users = Users(node)
    user = await users.signup("rider")
    with pytest.raises(ApplicationError):
        await connect(node.port, authid=user["username"], ticket="not the password")
    session = await connect(node.port, authid=user["username"], ticket=PASSWORD)
    assert session.details.authrole == "rider"
    session.leave()
