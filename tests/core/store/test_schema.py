"""Migrations: the schema they build is schema.py's, an upgrade never loses a store."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from misbridge.errors import ConfigurationError, StoreError
from misbridge.store import open_store, schema
from misbridge.store.engine import create_store_engine, redacted
from misbridge.store.migrate import MIGRATIONS, VERSION_TABLE, head_revision, upgrade
from tests.core.store.factory import TODAY, rows, school


def test_migrations_build_exactly_the_declared_schema(fresh_store_url: str) -> None:
    engine = create_store_engine(fresh_store_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            differences = compare_metadata(context, schema.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_keeps_the_store(fresh_store_url: str) -> None:
    with open_store(fresh_store_url) as first:
        first.sync(school(range(5)), today=TODAY)
        store_id = first.status()["store_id"]
    with open_store(fresh_store_url) as again:
        assert again.status()["store_id"] == store_id
        assert len(rows(again, "student")) == 5
        assert again.plan(school(range(5)), today=TODAY).empty


def test_a_store_from_a_newer_misbridge_is_refused_untouched(fresh_store_url: str) -> None:
    with open_store(fresh_store_url) as store:
        store.sync(school(range(3)), today=TODAY)
        with store._engine.begin() as conn:
            conn.execute(sa.text("UPDATE misbridge_schema_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer misbridge"):
        open_store(fresh_store_url)
    engine = create_store_engine(fresh_store_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM student")).scalar_one() == 3
    finally:
        engine.dispose()


GOOD_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("student") as batch:
        batch.add_column(sa.Column("nickname", sa.Text))
    op.execute("UPDATE student SET nickname = legal_forename")
"""


def test_an_upgrade_keeps_every_record(fresh_store_url: str, tmp_path: Path) -> None:
    with open_store(fresh_store_url) as store:
        store.sync(school(range(4)), today=TODAY)
        before = {r["id"]: r["legal_forename"] for r in rows(store, "student")}
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts)
    # A revision on top of the newest one this misbridge ships.
    (scripts / "versions" / "r9999_nickname.py").write_text(
        GOOD_REVISION.replace("{head}", head_revision())
    )
    engine = create_store_engine(fresh_store_url)
    try:
        assert upgrade(engine, scripts) == "9999"
        with engine.connect() as conn:
            after = dict(conn.execute(sa.text("SELECT id, nickname FROM student")).all())
    finally:
        engine.dispose()
    assert after == before


FAILING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("student", sa.Column("nickname", sa.Text))
    op.execute("UPDATE student SET nickname = legal_forename")
    raise RuntimeError("disk full half-way through the upgrade")
"""


def test_a_failed_upgrade_leaves_the_store_as_it_was(fresh_store_url: str, tmp_path: Path) -> None:
    with open_store(fresh_store_url) as store:
        store.sync(school(range(4)), today=TODAY)
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts)
    (scripts / "versions" / "r9999_fails.py").write_text(
        FAILING_REVISION.replace("{head}", head_revision())
    )
    assert head_revision(scripts) == "9999"
    engine = create_store_engine(fresh_store_url)
    try:
        with pytest.raises(RuntimeError, match="half-way"):
            upgrade(engine, scripts)
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("student")}
            version = conn.execute(
                sa.text("SELECT version_num FROM misbridge_schema_version")
            ).scalar()
    finally:
        engine.dispose()
    assert "nickname" not in columns
    assert version == head_revision()
    with open_store(fresh_store_url) as store:
        assert len(rows(store, "student")) == 4


def test_a_new_sqlite_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "misbridge.db"
    with open_store(f"sqlite:///{path}") as store:
        store.sync(school(range(2)), today=TODAY)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    wal = Path(f"{path}-wal")
    if wal.exists():
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600


def test_default_url_is_the_embedded_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert store.url == "sqlite:///misbridge.db"
    assert (tmp_path / "misbridge.db").exists()


def test_bad_urls_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SQLite or PostgreSQL"):
        open_store("mysql://u@h/db")
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/missing/folder/m.db")
    secret = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test?connect_timeout=1"
    with pytest.raises(StoreError) as failed:
        open_store(secret)
    assert "hunter2" not in str(failed.value)
    assert "cannot open the store postgresql+psycopg://postgres:***@127.0.0.1:1/test" in str(
        failed.value
    )
    assert "hunter2" not in redacted(secret)
