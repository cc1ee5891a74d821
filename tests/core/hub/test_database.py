"""The hub's database: migrations build exactly the declared schema (SQLite and
PostgreSQL), reopening keeps everything, a newer database is refused untouched."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from misbridge.errors import StoreError
from misbridge.hub import schema, schools
from misbridge.hub.database import VERSION_TABLE, open_database, utcnow


def test_migrations_build_exactly_the_declared_schema(hub_db: str) -> None:
    engine = open_database(hub_db)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            differences = compare_metadata(context, schema.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_keeps_the_hub_and_a_newer_one_is_refused(hub_db: str) -> None:
    engine = open_database(hub_db)
    school = schools.create_school(engine, utcnow(), None, "Elm School", "sims")
    engine.dispose()
    engine = open_database(hub_db)
    with engine.connect() as conn:
        names = [r.name for r in conn.execute(sa.select(schema.school))]
        conn.execute(
            sa.table(VERSION_TABLE, sa.column("version_num")).update().values(version_num="h9999")
        )
        conn.commit()
    engine.dispose()
    assert names == [school["name"]]
    try:
        open_database(hub_db)
    except StoreError as exc:
        assert "newer misbridge" in exc.message
    else:
        raise AssertionError("a hub database from a newer misbridge was opened")
