"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (trust auth, database ``test``), each
in a fresh schema dropped afterwards, so parallel runs never meet. Where no server
answers they are skipped with a clear message, unless CI is set: then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from misbridge.store import Store, open_store

PG_DSN = os.environ.get("MISBRIDGE_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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
        pytest.fail(f"CI is set but PostgreSQL at 127.0.0.1:5432 is unreachable: {_PG_PROBLEM}")
    pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable ({_PG_PROBLEM}); set CI to fail")


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
    if backend == "sqlite":
        return f"sqlite:///{folder / f'store-{uuid.uuid4().hex[:8]}.db'}", None
    schema = PgSchema()
    return schema.url, schema


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_pg()
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    url, schema = new_store_url(backend, tmp_path)
    try:
        yield url
    finally:
        if schema is not None:
            schema.drop()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
