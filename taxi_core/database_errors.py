"""Why a database cannot be used, apart from the engines that find it out (taxi_core/db.py):
the router worker maps DatabaseUnreachable to its URI (components/errors.py), and importing
SQLAlchemy for that would add a quarter of a second to every start of the router."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import URL


class DatabaseUnusable(Exception):
    """taxi cannot use the database it was given. `url` hides the password: it is safe to show;
    `reason` is the driver's own words, on one line."""

    def __init__(self, url: str, reason: str = ""):
        super().__init__(f"{url}: {reason}" if reason else url)
        self.url = url
        self.reason = reason


class DatabaseURLInvalid(DatabaseUnusable):
    """The text is not a database URL at all."""


class DatabaseDriverUnknown(DatabaseUnusable):
    """SQLAlchemy has no dialect of that name, or the dialect's driver is not installed."""

    def __init__(self, url: str, reason: str, drivername: str):
        super().__init__(url, reason)
        self.drivername = drivername


class DatabaseMissing(DatabaseUnusable):
    """The PostgreSQL server answers, but the database is not there (it must be created first)."""

    def __init__(self, url: str, reason: str, where: URL):
        super().__init__(url, reason)
        self.name, self.host, self.port, self.username = where.database, where.host, where.port, where.username


class DatabaseUnreachable(DatabaseUnusable):
    """No connection: the server is down or elsewhere, or it refused the user."""


class DatabaseFileUnusable(DatabaseUnusable):
    """SQLite cannot open or write the database file."""

    def __init__(self, url: str, reason: str, path: str):
        super().__init__(url, reason)
        self.path = path
