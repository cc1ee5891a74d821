"""The store's fast paths change nothing but time: the collector's state is restored
whatever happens, new internal ids are valid UUIDs that ascend, and a remembered digest
is the digest. Store tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from misbridge.errors import StoreError
from misbridge.store import Store
from misbridge.store import ids as ids_module
from misbridge.store import store as store_module
from misbridge.store.dependent import _remembered
from misbridge.store.ids import new_ids
from misbridge.store.kinds import digest_getter
from misbridge.store.planner import PlanBuilder
from tests.core.store.factory import TODAY, rows, school


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        (gc.enable if was else gc.disable)()


def test_planning_pauses_the_collector_and_an_apply_leaves_it_running(
    store: Store, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[bool]] = {"plan": [], "apply": []}
    apply_plan = store_module.apply_plan
    finish = PlanBuilder.finish

    def watched_apply(*args: Any) -> int:
        seen["apply"].append(gc.isenabled())
        return apply_plan(*args)

    def watched_finish(self: PlanBuilder, **kwargs: Any) -> Any:
        seen["plan"].append(gc.isenabled())
        return finish(self, **kwargs)

    monkeypatch.setattr(store_module, "apply_plan", watched_apply)
    monkeypatch.setattr(PlanBuilder, "finish", watched_finish)
    plan = store.plan(school(range(5)), today=TODAY)
    assert seen["plan"] == [False] and gc.isenabled()
    store.apply(plan)
    # An apply's cyclic garbage (tens of thousands of inserts) is collected as it goes.
    assert seen["apply"] == [True] and gc.isenabled()
    with pytest.raises(StoreError):  # the same plan again: the store moved on
        store.apply(plan)
    assert gc.isenabled()


def test_a_paused_collector_stays_paused(store: Store, collector_on: None) -> None:
    gc.disable()
    store.sync(school(range(5)), today=TODAY)
    assert not gc.isenabled()


def test_new_ids_are_uuids_that_ascend_and_never_repeat() -> None:
    batches = [new_ids(n) for n in (1, 7, 3000, 2)]
    ids = [i for batch in batches for i in batch]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and len(text) == 36
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert new_ids(0) == []


def test_new_ids_still_ascend_when_a_batch_runs_out_of_counter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A counter started just below its end: the batch moves on to the next millisecond.
    monkeypatch.setattr(ids_module.secrets, "randbits", lambda bits: (1 << (bits + 1)) - 3)
    batch = new_ids(8)
    assert batch == sorted(batch) and len(set(batch)) == 8
    assert len({uuid.UUID(i).int >> 80 for i in batch}) == 3  # three milliseconds


def test_an_applys_new_rows_get_ascending_ids_in_plan_order(store: Store) -> None:
    plan = store.plan(school(range(30)), today=TODAY)
    store.apply(plan)
    by_mis_id = {r["mis_id"]: r["internal_id"] for r in rows(store, "mis_id", entity="student")}
    planned = [c.mis_id for p in plan.datasets.values() for c in p.creates if c.kind == "student"]
    ids = [by_mis_id[m] for m in planned]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "data",
    [
        (date(2026, 9, 1), None),
        (None, None),
        (date(2026, 9, 1), date(2027, 7, 31)),
        (datetime(2026, 9, 1), None),  # equal to no date: never taken for one
        (datetime(2026, 9, 1, tzinfo=UTC), None),
        ("2026-09-01", None),
        ([2026, 9, 1], None),  # not a date, and unhashable
    ],
)
def test_a_remembered_digest_is_the_digest(data: tuple[Any, ...]) -> None:
    digest = digest_getter([0, 1])
    remembered = _remembered(digest)
    for first in [(date(2026, 9, 1), None), (None, None), data]:
        remembered(first)
    assert remembered(data) == digest(data)
    assert remembered((date(2026, 9, 1), None)) == digest((date(2026, 9, 1), None))
