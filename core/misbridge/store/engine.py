"""Opening a database by URL, with the same transaction behaviour on every backend.

SQLite is the embedded default. Python's ``sqlite3`` driver opens transactions lazily
and commits DDL on its own, which would break "one apply is one transaction"; so, as
SQLAlchemy's documentation recommends, we switch that off and emit ``BEGIN`` ourselves.
Writers ask for ``BEGIN IMMEDIATE`` (execution option ``sqlite_begin``) so that two
processes never both read, then both try to write. Foreign keys are enforced, the
journal is a write-ahead log, and a new database file is created owner-only: it holds
children's personal data.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from misbridge.config import DEFAULT_STORE_URL
from misbridge.errors import ConfigurationError, StoreError

__all__ = ["DEFAULT_URL", "create_store_engine", "driver_reason", "redacted", "write_options"]

DEFAULT_URL = DEFAULT_STORE_URL
SQLITE_BUSY_TIMEOUT_MS = 30_000


def redacted(url: str | URL) -> str:
    """The URL as it may appear in messages: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL we cannot even parse may hold anything: show nothing of it
        return "<unreadable store URL>"


def driver_reason(exc: BaseException, url: str | URL) -> str:
    """What the database driver said (no such database, role, refused port), on one
    line and without the URL's password: enough for the operator to act on."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        text = text.replace(str(password), "***")
    text = re.sub(r"(?i)(password\s*=\s*)\S+", r"\1***", text)
    return f"{type(cause).__name__}: {text[:300]}" if text else type(cause).__name__


def write_options(conn: sa.Connection) -> sa.Connection:
    """Mark ``conn`` as a writer (SQLite: take the write lock when the transaction begins)."""
    return conn.execution_options(sqlite_begin="IMMEDIATE")


def create_store_engine(url: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(
            f"{redacted(url)} is not a database URL: use sqlite:///path/to/misbridge.db or "
            "postgresql+psycopg://user@host:5432/database"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    from misbridge.settings import suggest

    raise ConfigurationError(
        f"{redacted(url)}: misbridge stores live in SQLite or PostgreSQL, not {backend}"
        f"{suggest(backend, ['sqlite', 'postgresql'])} (sqlite:///path/to/misbridge.db or "
        "postgresql+psycopg://user@host:5432/database)"
    )


def _sqlite_engine(url: URL) -> sa.Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        _create_private_file(Path(database))
    engine = sa.create_engine(url, hide_parameters=True)  # values are pupils' data
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_private_file(path: Path) -> None:
    if path.exists():
        return
    if not path.parent.exists():
        raise StoreError(
            f"cannot create the store {path}: the folder {path.parent} does not exist; "
            "create it first or choose another path"
        )
    # Owner-only from the first byte; SQLite gives its journal files the same mode.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StoreError(
            f"cannot create the store {path}: {exc.strerror or type(exc).__name__}; choose "
            "a folder this user may write to"
        ) from None
    os.close(fd)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())
