"""New rows go to the database beneath SQLAlchemy's per-row work (``store.bulk``), with
the digests the planner computed: what they store must be exactly what Core's insert of
rows digested by the apply stored, and a database error must still be
the store's own, with everything rolled back. Every test runs on SQLite and on
PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from misbridge.errors import StoreError
from misbridge.model import Dataset
from misbridge.result import ExtractResult
from misbridge.sample import sample_school
from misbridge.store import Store, applier, bulk, open_store, schema
from misbridge.store import store as store_module
from misbridge.store.ids import new_ids
from tests.core.store.conftest import new_store_url
from tests.core.store.factory import TODAY, snapshot
from tests.core.store.sources import normalised

STORE_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
NOW = datetime(2026, 10, 1, 2, 30, 15, 123456)


@pytest.fixture(scope="module")
def extract() -> ExtractResult:
    # Assessments and photos too: every column type (JSON, dates, booleans, bytes).
    return normalised(sample_school(students=60, staff=8, assessments=True), "wonde")


def _joiners(result: ExtractResult) -> ExtractResult:
    """A second night: new pupils (creates into a store that holds rows already)."""
    students = list(result.records[Dataset.STUDENTS])
    joiners = [
        evolve(s, mis_id=f"new-{s.mis_id}", upn=None, username=f"new-{s.username}")  # type: ignore[misc]
        for s in students[::9]
    ]
    night = evolve(result, records=dict(result.records), outcomes=dict(result.outcomes))
    night.records[Dataset.STUDENTS] = students + joiners
    return night


def _counting_ids() -> Iterator[str]:
    for n in itertools.count(1):
        yield str(uuid.UUID(int=n))


def _dump_digest(dump: dict[str, list[Any]]) -> str:
    return hashlib.sha256(repr(sorted(dump.items())).encode("utf-8")).hexdigest()


def _raw_dump(store: Store) -> dict[str, list[Any]]:
    """Every row of every table as the database holds it (no SQLAlchemy type on the
    way back): SQLite's values with their Python types, PostgreSQL's rows as text."""
    found: dict[str, list[Any]] = {}
    with store._engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(f'SELECT * FROM "{table.name}"').all()  # noqa: S608
                found[table.name] = sorted(
                    (tuple((type(v).__name__, v) for v in row) for row in rows), key=repr
                )
            else:
                query = f'SELECT t::text FROM "{table.name}" AS t'  # noqa: S608
                text = conn.exec_driver_sql(query)
                found[table.name] = sorted(text.scalars().all())
    return found


def _two_nights(
    url: str, extract: ExtractResult, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[Any]]:
    ids = _counting_ids()
    monkeypatch.setattr(applier, "new_ids", lambda n: [next(ids) for _ in range(n)])
    monkeypatch.setattr(store_module, "_now", lambda: NOW)
    with open_store(url) as store:
        with store._engine.begin() as conn:
            conn.execute(schema.store_state.update().values(store_id=STORE_ID))
        first = store.sync(extract, today=TODAY)
        second = store.sync(_joiners(extract), today=TODAY)
        assert first.applied and second.applied
        assert first.counts["students"]["created"] > 0
        assert second.counts["students"]["created"] > 0
        return _raw_dump(store)


#: The raw dump of ``_two_nights`` as misbridge stored it before bulk inserts, ascending
#: ids and carried digests (computed on 8ed2839 with the same ids and clock): every
#: value of every row must stay exactly what it was.
KNOWN_GOOD = {
    "sqlite": "8f59c5a251735c902a9d2b8e7a0542934b1eabddd6643e98d70e53be66e2fa4d",
    "postgresql": "3a4548e58fe72bbbaf1822eb45be4697e23b6bbeece8473b02b917e6e32d3903",
}


def test_the_rows_stored_are_those_stored_before_bulk_inserts(
    backend: str, tmp_path: Path, extract: ExtractResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, pg = new_store_url(backend, tmp_path)
    try:
        dump = _two_nights(url, extract, monkeypatch)
    finally:
        if pg is not None:
            pg.drop()
    assert len(dump["membership"]) > 1000 and dump["photo"] and dump["assessment"]
    assert _dump_digest(dump) == KNOWN_GOOD[backend]


@pytest.fixture
def two_urls(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    one, pg_one = new_store_url(backend, tmp_path)
    other, pg_other = new_store_url(backend, tmp_path)
    try:
        yield one, other
    finally:
        for pg in (pg_one, pg_other):
            if pg is not None:
                pg.drop()


def test_bulk_inserts_store_exactly_what_core_inserts_stored(
    two_urls: tuple[str, str], extract: ExtractResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk_url, core_url = two_urls
    core = bulk.insert_rows_core

    def no_fallback(*_: Any) -> int:
        raise AssertionError("the bulk path fell back to Core's insert")

    monkeypatch.setattr(bulk, "insert_rows_core", no_fallback)
    by_bulk = _two_nights(bulk_url, extract, monkeypatch)
    # The reference: Core's insert, and every digest computed by the apply itself.
    monkeypatch.setattr(applier, "insert_rows", core)
    monkeypatch.setattr(applier, "_digest", lambda kind, _create, row: kind.digest(row))
    by_core = _two_nights(core_url, extract, monkeypatch)
    assert set(by_bulk) == set(by_core)
    for table in by_core:
        assert by_bulk[table] == by_core[table], table
    for table in ("student", "membership", "photo", "assessment", "account", "mis_id"):
        assert by_bulk[table], f"the sample school wrote no {table} rows"


def test_a_database_error_in_a_bulk_insert_is_a_store_error_and_rolls_back(
    store: Store, extract: ExtractResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(store)
    plan = store.plan(extract, today=TODAY)
    # Every new record gets one id: the second student's row breaks the primary key.
    monkeypatch.setattr(applier, "new_ids", lambda n: new_ids(1) * n)
    with pytest.raises(StoreError) as raised:
        store.apply(plan)
    message = str(raised.value)
    assert "could not apply the plan" in message
    assert "rolled back" in message
    assert "IntegrityError" in message or "UniqueViolation" in message
    assert snapshot(store) == before  # nothing of the plan, no run, no revision
    monkeypatch.undo()
    report = store.apply(plan)  # the store (and its connection pool) is still usable
    assert report.applied and report.writes > 0


def test_rows_must_all_give_the_same_columns(store: Store) -> None:
    now = datetime(2026, 10, 1)
    row = {"school": "default", "action": "x", "detail": {}, "at": now}
    with pytest.raises(StoreError), store._transaction("insert", write=True) as conn:
        bulk.insert_rows(conn, schema.audit, [row, {"school": "default", "action": "y"}])
    with pytest.raises(StoreError), store._transaction("insert", write=True) as conn:
        bulk.insert_rows(conn, schema.audit, [{**row, "no_such_column": 1}])
    with store._transaction("insert", write=True) as conn:
        assert bulk.insert_rows(conn, schema.audit, [row, {**row, "action": "y"}]) == 2
    assert sorted(r[2] for r in snapshot(store)["audit"]) == ["'default'", "'default'"]
