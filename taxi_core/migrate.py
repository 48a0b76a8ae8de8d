"""Apply the Alembic migrations: the only way the schema is created or changed."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from .db import DatabaseUnusable, check_database, engine_url


class DatabaseSchemaUnknown(DatabaseUnusable):
    """The database is at a revision this taxi's migrations do not have (a newer taxi migrated it)."""

    def __init__(self, url: str, reason: str, revision: str):
        super().__init__(url, reason)
        self.revision = revision


@dataclass(frozen=True)
class Revision:
    id: str
    title: str  # the first line of the migration's docstring


@dataclass(frozen=True)
class Migration:
    """What migrate() did. `url` hides the password; `before` is empty for a database that had
    no taxi schema yet."""

    url: str
    before: tuple[Revision, ...]
    after: tuple[Revision, ...]
    at_head: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "taxi_core:migrations")
    # "%" is ConfigParser's interpolation character; a password may contain it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str, revision: str = "head") -> Migration:
    """Raises taxi_core.db.DatabaseUnusable, before any migration runs, if the database cannot be used."""
    check_database(database_url)
    config = alembic_config(database_url)
    script = ScriptDirectory.from_config(config)
    shown = make_url(database_url).render_as_string(hide_password=True)
    before = _current(database_url, script, shown)
    command.upgrade(config, revision)
    after = _current(database_url, script, shown)
    return Migration(
        url=shown,
        before=before,
        after=after,
        at_head={r.id for r in after} == set(script.get_heads()),
    )


def _current(database_url: str, script: ScriptDirectory, shown: str) -> tuple[Revision, ...]:
    engine = create_engine(engine_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return tuple(_revision(script, head, shown) for head in heads)


def _revision(script: ScriptDirectory, revision_id: str, shown: str) -> Revision:
    try:
        found = script.get_revision(revision_id)
    except CommandError as error:
        raise DatabaseSchemaUnknown(shown, str(error), revision_id) from error
    return Revision(revision_id, found.doc.strip().splitlines()[0] if found.doc else "")
