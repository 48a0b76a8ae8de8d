"""The Alembic migrations: the only way the schema is made, and the models agree with them."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from taxi_core.db import make_engine
from taxi_core.migrate import alembic_config, migrate
from taxi_core.models import Base

SCHEMA_TABLES = {"users", "trips"}


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
