"""Schema migrations, run when a store is opened: an upgrade never loses a store.

Every migration of one upgrade runs in a single transaction (SQLite and PostgreSQL
both have transactional DDL), so a failed upgrade leaves the store exactly as it was.
A store written by a newer misbridge is refused, never "downgraded".
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from misbridge.errors import StoreError
from misbridge.store.engine import write_options

__all__ = ["MIGRATIONS", "VERSION_TABLE", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "misbridge_schema_version"
# Any fixed number: PostgreSQL sessions upgrading the same database queue on it.
_PG_LOCK_KEY = 0x6D6973627269


def _config(script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


def head_revision(script_location: Path = MIGRATIONS) -> str:
    head = ScriptDirectory.from_config(_config(script_location)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise StoreError(f"no migrations found in {script_location}")
    return head


def current_revision(conn: sa.Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: sa.Engine, script_location: Path = MIGRATIONS) -> str:
    """Bring the store's schema to the newest revision; return that revision."""
    config = _config(script_location)
    script = ScriptDirectory.from_config(config)
    head = head_revision(script_location)
    with write_options(engine.connect()) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        current = current_revision(conn)
        if current == head:
            return head
        if current is not None and current not in {s.revision for s in script.walk_revisions()}:
            raise StoreError(
                f"this store has schema revision {current}, written by a newer misbridge; "
                "upgrade misbridge to open it (the store was left untouched)"
            )
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head
