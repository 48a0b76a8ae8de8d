"""The Alembic migrations: the only way the schema is made, and the models agree with them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from taxi_core.db import Database, make_engine
from taxi_core.device_services import DeviceService
from taxi_core.migrate import alembic_config, migrate
from taxi_core.models import Base, UTCDateTime
from taxi_core.services import TaxiService

SCHEMA_TABLES = {"users", "trips", "trip_events", "outbox", "leases", "driver_positions", "offers", "devices",
                 "device_sessions"}


@pytest.fixture
def engine(empty_database_url):
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_an_empty_database_has_no_tables(engine):
    assert tables(engine) == set()
    assert current_revision(engine) is None


def test_migrating_an_empty_database_creates_the_schema_at_head(empty_database_url, engine):
    migrate(empty_database_url)
    assert tables(engine) == SCHEMA_TABLES
    assert current_revision(engine) == head_revision(empty_database_url)
    trip_columns = {column["name"] for column in inspect(engine).get_columns("trips")}
    assert {"nk", "status", "rider_id", "driver_id", "request_id", "created", "updated"} <= trip_columns


def test_migrating_a_database_at_head_again_changes_nothing_and_keeps_its_data(database_url, database, rider):
    migrate(database_url)  # database_url is migrated already; rider signed up on it
    assert current_revision(database.engine) == head_revision(database_url)
    assert tables(database.engine) == SCHEMA_TABLES
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT username FROM users").scalars().all() == [rider]


def test_downgrading_to_base_removes_the_schema_and_upgrading_makes_it_again(empty_database_url, engine):
    migrate(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    assert tables(engine) == set()
    assert current_revision(engine) is None
    migrate(empty_database_url)
    assert tables(engine) == SCHEMA_TABLES
    assert current_revision(engine) == head_revision(empty_database_url)


def test_the_models_match_the_migrated_schema(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


# The tables as revision 0001 made them, for writing rows before 0002 exists.
USERS_0001 = sa.table("users", *(sa.column(name) for name in ("id", "username", "password_hash", "first_name",
                      "last_name", "role")), sa.column("created", UTCDateTime()))  # fmt: skip
TRIPS_0001 = sa.table(
    "trips",
    *(sa.column(name) for name in ("id", "nk", "pick_up_address", "drop_off_address", "status", "rider_id",
                                   "driver_id")),  # fmt: skip
    sa.column("created", UTCDateTime()),
    sa.column("updated", UTCDateTime()),
)
AT = dt.datetime(2026, 1, 1, 11, 30, tzinfo=dt.timezone.utc)


def _trips_at_0001(engine) -> None:
    person = {"password_hash": "x", "first_name": "", "last_name": "", "created": AT}
    trip = {"pick_up_address": "A", "drop_off_address": "B", "created": AT, "rider_id": 1}
    with engine.begin() as connection:
        connection.execute(
            USERS_0001.insert(),
            [
                {"id": 1, "username": "rosa", "role": "rider", **person},
                {"id": 2, "username": "dan", "role": "driver", **person},
            ],
        )
        connection.execute(
            TRIPS_0001.insert(),
            [
                {"id": 1, "nk": "a" * 32, "status": "IN_PROGRESS", "driver_id": 2, "updated": AT, **trip},
                {"id": 2, "nk": "b" * 32, "status": "REQUESTED", "driver_id": None, "updated": AT, **trip},
            ],
        )


def test_upgrading_a_database_with_trips_gives_each_its_state_as_event_1_and_publishes_nothing(
    empty_database_url, engine, clock, password_hasher
):
    migrate(empty_database_url, "0001")
    _trips_at_0001(engine)
    migrate(empty_database_url)
    service = TaxiService(Database(engine), clock=clock, hasher=password_hasher)
    assert service.trip_history(user="rosa", nk="a" * 32) == [
        {
            "seq": 1,
            "status": "IN_PROGRESS",
            "actor": {"authid": None, "role": "service"},
            "session": None,
            "created": AT.isoformat(),
        }
    ]
    assert service.get_trip(user="rosa", nk="b" * 32)["seq"] == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM outbox").scalar() == 0
    # An old trip goes on from its event 1.
    step = service.update_trip(driver="dan", nk="a" * 32, status="COMPLETED", session_id=7)
    assert [event.seq for event in step.events] == [2]
    assert [event["seq"] for event in service.trip_history(user="dan", nk="a" * 32)] == [1, 2]


def test_downgrading_to_0001_keeps_the_trips(database_url, database, trip, rider):
    command.downgrade(alembic_config(database_url), "0001")
    assert tables(database.engine) == {"users", "trips"}
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT nk FROM trips").scalars().all() == [trip["nk"]]
    migrate(database_url)
    assert current_revision(database.engine) == head_revision(database_url)


def test_upgrading_from_0002_keeps_trips_open_to_every_driver_and_stuck_rows_told_as_before(
    empty_database_url, engine, clock, password_hasher
):
    migrate(empty_database_url, "0001")
    _trips_at_0001(engine)
    migrate(empty_database_url, "0002")
    with engine.begin() as connection:  # both trips' event 1 stuck in the outbox, as a dead backend left them
        connection.exec_driver_sql("INSERT INTO outbox (event_id, payload) SELECT id, '{}' FROM trip_events")
    migrate(empty_database_url)
    with engine.connect() as connection:
        notices = dict(connection.exec_driver_sql(
            "SELECT t.status, o.notices FROM outbox o JOIN trip_events t ON t.id = o.event_id"
        ).all())  # fmt: skip
    to_every_driver = [{"eligible": None, "offer": None, "expires": None}]
    assert {status: _json(value) for status, value in notices.items()} == {"IN_PROGRESS": [], "REQUESTED": to_every_driver}
    service = TaxiService(Database(engine), clock=clock, hasher=password_hasher)
    trip = service.get_trip(user="dan", nk="b" * 32)  # any driver sees a trip without a location
    assert (trip["pick_up_location"], trip["dispatch"]) == (None, None)
    assert service.update_trip(driver="dan", nk="b" * 32, status="STARTED").trip["driver"]["username"] == "dan"


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_upgrading_from_0003_leaves_every_user_without_devices_and_logging_in_as_before(
    empty_database_url, engine, clock, password_hasher
):
    migrate(empty_database_url, "0003")
    _trips_at_0001(engine)
    migrate(empty_database_url)
    assert {"devices", "device_sessions"} <= tables(engine)
    devices = DeviceService(Database(engine), clock=clock, hasher=password_hasher)
    assert devices.devices(user="rosa") == []
    key = "ab" * 32
    devices.add_device(user="rosa", public_key=key)
    assert devices.authenticate_device(username="rosa", public_key=key) == {"authid": "rosa", "role": "rider"}


def test_downgrading_to_0003_drops_the_devices_and_keeps_the_users(database_url, database, rider):
    command.downgrade(alembic_config(database_url), "0003")
    assert tables(database.engine) == SCHEMA_TABLES - {"devices", "device_sessions"}
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT username FROM users").scalars().all() == [rider]
    migrate(database_url)
    assert current_revision(database.engine) == head_revision(database_url)
