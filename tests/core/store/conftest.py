"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (trust auth, database ``test``; another
with ``MISBRIDGE_TEST_PG_URL``), in schemas of their own test run, dropped afterwards, so
parallel runs never meet: one migrated schema per run, emptied before each test, and a
fresh schema for each migration test. Where no server answers they are skipped with a
clear message, unless CI is set: then they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from misbridge.store import Store, open_store, schema
from misbridge.store.engine import redacted

PG_URL = os.environ.get(
    "MISBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DSN = PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}".strip()


_PG_PROBLEM = _pg_reachable()


def require_pg() -> None:
    if _PG_PROBLEM is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but PostgreSQL ({redacted(PG_URL)}) is unreachable: {_PG_PROBLEM}")
    pytest.skip(f"PostgreSQL ({redacted(PG_URL)}) is unreachable ({_PG_PROBLEM}); set CI to fail")


def pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


class PgSchema:
    """A fresh PostgreSQL schema; ``url`` opens a store inside it."""

    def __init__(self) -> None:
        require_pg()
        self.name = f"mbtest_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')
        self.url = pg_schema_url(self.name)

    def drop(self) -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


def new_store_url(backend: str, folder: Path) -> tuple[str, PgSchema | None]:
    """A brand-new store location (opening it runs every migration)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}", None
    schema = PgSchema()
    return schema.url, schema


class EmptyStores:
    """Fresh, empty, migrated stores, fast: the migrations run once per backend and test
    run; a SQLite store is a copy of a migrated file, a PostgreSQL store is a schema of
    this run emptied (every table truncated, a new store id). Tests of the migrations
    themselves use :func:`new_store_url` instead."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template: Path | None = None
        self.schema: PgSchema | None = None

    def url(self, backend: str) -> str:
        if backend == "sqlite":
            if self.template is None:
                self.template = self.folder / "template.db"
                open_store(f"sqlite:///{self.template}").close()
            copy = self.folder / f"store-{uuid.uuid4().hex[:8]}.db"
            shutil.copy(self.template, copy)
            return f"sqlite:///{copy}"
        if self.schema is None:
            self.schema = PgSchema()
            open_store(self.schema.url).close()
        empty_pg_store(self.schema.name)
        return self.schema.url

    def close(self) -> None:
        if self.schema is not None:
            self.schema.drop()


def empty_pg_store(schema_name: str) -> None:
    tables = sql.SQL(", ").join(
        sql.Identifier(schema_name, t.name) for t in schema.metadata.sorted_tables
    )
    state = sql.Identifier(schema_name, "store_state")
    insert = sql.SQL("INSERT INTO {} (singleton, store_id) VALUES (1, %s)")
    with psycopg.connect(PG_DSN, autocommit=True) as conn, conn.transaction():
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
        conn.execute(insert.format(state), (str(uuid.uuid4()),))


@pytest.fixture(scope="session")
def empty_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmptyStores]:
    stores = EmptyStores(tmp_path_factory.mktemp("stores"))
    try:
        yield stores
    finally:
        stores.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_pg()
    return str(request.param)


@pytest.fixture
def store_url(backend: str, empty_stores: EmptyStores) -> str:
    return empty_stores.url(backend)


@pytest.fixture
def fresh_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A location no store was ever opened at: opening it runs the migrations."""
    url, pg = new_store_url(backend, tmp_path)
    try:
        yield url
    finally:
        if pg is not None:
            pg.drop()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
