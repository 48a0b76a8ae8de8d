"""What `taxi` tells its user, in the user's terms: one line for each problem that stops a start
(what is wrong and what to do), the migration's result, and the web bundle that is not there.
The problems themselves are taxi_core's (taxi_core.db, taxi_core.migrate); the wording is here."""

from __future__ import annotations

from functools import singledispatch
from pathlib import Path

from components.logs import UnknownLogLevel
from taxi_core.backend_keys import BackendKeysUnusable
from taxi_core.database_errors import (
    DatabaseDriverUnknown,
    DatabaseFileUnusable,
    DatabaseMissing,
    DatabaseUnreachable,
    DatabaseUnusable,
    DatabaseURLInvalid,
)
from taxi_core.migrate import DatabaseSchemaUnknown, Migration, Revision

from .node_config import TLSUnusable

SUPPORTED_URLS = "sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE"


@singledispatch
def explain(problem: Exception) -> str:
    raise TypeError(f"no wording for {problem!r}")


@explain.register
def _(problem: DatabaseUnusable) -> str:
    return f"cannot use the database {problem.url}: {problem.reason}"


@explain.register
def _(problem: DatabaseURLInvalid) -> str:
    return f"{problem.url!r} is not a database URL; use {SUPPORTED_URLS}"


@explain.register
def _(problem: DatabaseDriverUnknown) -> str:
    if problem.drivername == "postgres":
        return f"{problem.url}: SQLAlchemy spells PostgreSQL URLs postgresql://, not postgres://"
    return f"no database driver for {problem.url} ({problem.reason}); taxi runs on {SUPPORTED_URLS}"


@explain.register
def _(problem: DatabaseMissing) -> str:
    options = [f"-h {problem.host}" if problem.host else "", f"-p {problem.port}" if problem.port else ""]
    options.append(f"-U {problem.username}" if problem.username else "")
    createdb = " ".join(["createdb", *filter(None, options), problem.name])
    return f'the PostgreSQL database "{problem.name}" does not exist ({problem.url}); create it first: {createdb}'


@explain.register
def _(problem: DatabaseUnreachable) -> str:
    return f"cannot connect to {problem.url}: {problem.reason} (start the server, or fix the URL's host, port or user)"


@explain.register
def _(problem: DatabaseFileUnusable) -> str:
    return (
        f"cannot open the SQLite database {problem.path}: {problem.reason} "
        "(its directory must exist and be writable)"
    )


@explain.register
def _(problem: DatabaseSchemaUnknown) -> str:
    return (
        f"{problem.url} is at revision {problem.revision}, which this taxi's migrations do not have "
        "(a newer taxi migrated it): run that taxi, or a new database"
    )


@explain.register
def _(problem: UnknownLogLevel) -> str:
    return str(problem)


@explain.register
def _(problem: BackendKeysUnusable) -> str:
    return f"cannot use the backend keys in {problem.source}: {problem.reason}"


@explain.register
def _(problem: TLSUnusable) -> str:
    return f"the backend port's TLS: {problem}"


def migration_done(migration: Migration) -> str:
    head = " (head)" if migration.at_head else ""
    if not migration.changed:
        return f"{migration.url} is already at {_revisions(migration.after)}{head}"
    return f"migrated {migration.url} from {_revisions(migration.before)} to {_revisions(migration.after)}{head}"


def _revisions(revisions: tuple[Revision, ...]) -> str:
    return ", ".join(f"{r.id} {r.title}".strip() for r in revisions) or "<empty>"


def port_taken(port: int) -> str:
    return f"port {port} is taken (another taxi run?): stop that, or choose another with --port or TAXI_PORT"


def backend_port_taken(port: int) -> str:
    return f"port {port} is taken (another taxi run?): stop that, or choose another TAXI_BACKEND_PORT"


def web_bundle_missing(bundle: Path) -> str:
    vendor = bundle.parent
    return (
        f"the web page cannot connect: its Autobahn|JS bundle {bundle} is missing. Install taxi with "
        "npm on the PATH (setup.py runs `npm ci`), or run `make` in a clone, or `npm ci` and copy "
        f"node_modules/autobahn-browser/autobahn.min.js and LICENSE into {vendor}"
    )
