"""The hub's database: opened by URL (SQLite by default, PostgreSQL), migrated on open.

The engine comes from the sync store's toolkit (:func:`misbridge.store.engine.
create_store_engine`): the same transaction behaviour on both backends, SQLite files
created owner-only, statement values never in error messages. Every migration of one
upgrade runs in a single transaction, so a failed upgrade leaves the hub as it was,
and a database written by a newer misbridge is refused, never downgraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from misbridge.errors import StoreError
from misbridge.store.engine import create_store_engine, write_options

__all__ = [
    "DEFAULT_URL",
    "MIGRATIONS",
    "VERSION_TABLE",
    "current_revision",
    "head_revision",
    "open_database",
    "reader",
    "utcnow",
    "writer",
]

DEFAULT_URL = "sqlite:///misbridge-hub.db"
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "misbridge_hub_schema_version"
_PG_LOCK_KEY = 0x6D6268756221


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the hub's tables hold."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise StoreError(f"no hub migrations found in {MIGRATIONS}")
    return head


def current_revision(conn: sa.Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: sa.Engine) -> str:
    """Bring the hub's schema to the newest revision; return that revision."""
    config = _config()
    script = ScriptDirectory.from_config(config)
    head = head_revision()
    with write_options(engine.connect()) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(conn)
        if current == head:
            return head
        if current is not None and current not in {s.revision for s in script.walk_revisions()}:
            raise StoreError(
                f"this hub database has schema revision {current}, written by a newer "
                "misbridge; upgrade misbridge to open it (the database was left untouched)"
            )
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head


def open_database(url: str) -> sa.Engine:
    """An engine on ``url`` with the hub's schema brought up to date."""
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def writer(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One write transaction (SQLite: the write lock is taken when it begins)."""
    with write_options(engine.connect()) as conn, conn.begin():
        yield conn


@contextmanager
def reader(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn
