"""A trust's schools in one store: every record, guard, plan, checkpoint and MIS id is
its own school's; r0004 moves a one-school store in whole, and its first named run
claims it. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.errors import ConfigurationError, GuardRefused, StoreError
from misbridge.model import Dataset
from misbridge.reads import Checkpoint
from misbridge.store import Store, open_store, schema
from misbridge.store.engine import create_store_engine, write_options
from misbridge.store.migrate import MIGRATIONS, _config
from tests.core.store.conftest import EmptyStores, new_store_url
from tests.core.store.factory import TODAY, rows, school

OAK, ELM = "oakfield", "elmwood"


def enabled(store: Store, table: str, name: str) -> set[str]:
    return {r["id"] for r in rows(store, table, school=name, enabled=True)}


def test_two_schools_on_one_mis_with_the_same_ids_never_meet(store: Store) -> None:
    # Both schools number pupils S0.. and give them the same usernames.
    oak = store.sync(school(range(20)), today=TODAY, school=OAK)
    elm = store.sync(school(range(10)), today=TODAY, school=ELM)
    assert oak.applied and elm.applied
    assert elm.counts["students"]["created"] == 10  # nothing of Oakfield's was matched
    assert elm.counts["students"]["linked"] == 0
    assert elm.counts["students"]["rejected"] == 0  # usernames are unique per school
    assert len(enabled(store, "student", OAK)) == 20
    assert len(enabled(store, "student", ELM)) == 10
    assert not enabled(store, "student", OAK) & enabled(store, "student", ELM)
    # Each school's own night is unchanged by the other's.
    assert store.plan(school(range(20)), today=TODAY, school=OAK).empty
    assert store.plan(school(range(10)), today=TODAY, school=ELM).empty
    assert store.status(OAK)["records"]["student"]["enabled"] == 20
    assert store.status(ELM)["mis_ids"]["wonde"] == len(rows(store, "mis_id", school=ELM))


def test_a_schools_guard_counts_only_its_own_records(store: Store) -> None:
    store.sync(school(range(40)), today=TODAY, school=OAK)
    store.sync(school(range(10)), today=TODAY, school=ELM)
    # Three of Elmwood's ten leave: 30% of Elmwood (7% of the store): refused.
    plan = store.plan(school(range(7)), today=TODAY, school=ELM)
    assert [(b.kind, b.disables, b.active) for b in plan.breaches if b.kind == "student"] == [
        ("student", 3, 10)
    ]
    with pytest.raises(GuardRefused):
        store.apply(plan)
    assert [p["hash"] for p in store.status(ELM)["plans_awaiting_review"]] == [plan.hash]
    assert store.status(OAK)["plans_awaiting_review"] == []
    # Oakfield's four leavers are 10% of Oakfield: allowed, whatever Elmwood did.
    report = store.sync(school(range(36)), today=TODAY, school=OAK)
    assert report.applied and report.counts["students"]["disabled"] == 4
    assert len(enabled(store, "student", ELM)) == 10


def test_identical_plans_of_two_schools_have_different_hashes(store: Store) -> None:
    oak = store.plan(school(range(5)), today=TODAY, school=OAK)
    elm = store.plan(school(range(5)), today=TODAY, school=ELM)
    assert oak.hash != elm.hash
    store.apply(oak)
    store.apply(elm)
    assert store.saved_plan(oak.hash)["school"] == OAK  # type: ignore[index]
    assert store.saved_plan(elm.hash)["school"] == ELM  # type: ignore[index]


def test_switch_mis_of_one_school_leaves_the_other_alone(store: Store) -> None:
    store.sync(school(range(8)), today=TODAY, school=OAK)
    store.sync(school(range(8)), today=TODAY, school=ELM)
    before = rows(store, "mis_id", school=ELM)
    cleared = store.switch_mis(OAK)
    assert cleared == len(rows(store, "mis_id", school=OAK)) + cleared  # all of Oakfield's
    assert rows(store, "mis_id", school=OAK) == []
    assert rows(store, "mis_id", school=ELM) == before
    assert store.plan(school(range(8)), today=TODAY, school=ELM).empty
    relinked = store.sync(school(range(8), mis="arbor"), today=TODAY, school=OAK)
    assert relinked.counts["students"]["linked"] == 8
    assert relinked.counts["students"]["created"] == 0


def test_checkpoints_are_kept_per_school(store: Store) -> None:
    result = school(range(3))
    mark = Checkpoint(datetime(2026, 10, 1, 2, tzinfo=UTC), {"revision": 7})
    result.checkpoints[Dataset.STUDENTS] = mark
    store.sync(result, today=TODAY, school=OAK)
    assert store.checkpoints("wonde", OAK) == {Dataset.STUDENTS: mark}
    assert store.checkpoints("wonde", ELM) == {}


def test_applies_of_two_schools_do_not_make_each_other_stale(store: Store) -> None:
    oak = store.plan(school(range(6)), today=TODAY, school=OAK)
    store.sync(school(range(4)), today=TODAY, school=ELM)  # applied in between
    assert store.apply(oak).applied
    again = store.plan(school(range(7)), today=TODAY, school=OAK)
    store.sync(school(range(7)), today=TODAY, school=OAK)
    with pytest.raises(StoreError, match="changed since"):
        store.apply(again)  # its own school moved on: stale


def test_a_store_of_several_schools_asks_which(store: Store) -> None:
    store.sync(school(range(2)), today=TODAY)  # an unnamed store: "default"
    assert store.schools() == ["default"]
    assert store.plan(school(range(2)), today=TODAY).empty  # the only school
    store.sync(school(range(2)), today=TODAY, school=OAK)
    with pytest.raises(ConfigurationError, match="several schools"):
        store.plan(school(range(2)), today=TODAY)
    with pytest.raises(ConfigurationError, match="several schools"):
        store.switch_mis()
    status = store.status()
    assert status["school"] is None
    assert set(status["schools"]) == {"default", OAK}
    assert status["records"]["student"]["enabled"] == 4


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    nights=st.lists(
        st.tuples(st.sampled_from([OAK, ELM]), st.sets(st.integers(0, 11), min_size=9)),
        min_size=1,
        max_size=6,
    )
)
def test_each_school_holds_exactly_its_last_applied_night(
    empty_stores: EmptyStores, nights: list[tuple[str, set[int]]]
) -> None:
    with open_store(empty_stores.url("sqlite")) as store:
        applied: dict[str, set[int]] = {}
        for name, pupils in nights:
            try:
                store.sync(school(sorted(pupils)), today=TODAY, school=name)
            except GuardRefused:
                continue  # the school keeps its previous night; the other is not involved
            applied[name] = pupils
        for name, pupils in applied.items():
            on = {r["id"] for r in rows(store, "student", school=name, enabled=True)}
            linked = {
                r["mis_id"]
                for r in rows(store, "mis_id", school=name, entity="student")
                if r["internal_id"] in on
            }
            assert linked == {f"S{n}" for n in pupils}
        assert set(store.schools()) == set(applied)


# -- r0004: a one-school store moves in ------------------------------------------------


def _build_r0003_store(url: str, source: Store) -> None:
    """A store at schema r0003 holding ``source``'s rows (which have school "default")."""
    engine = create_store_engine(url)
    config = _config(MIGRATIONS)
    try:
        with write_options(engine.connect()) as conn, conn.begin():
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
        revision = rows(source, "school")[0]["revision"]
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM store_state"))
            for table in schema.metadata.sorted_tables:
                if table.name == "school":
                    continue
                data = [
                    {k: v for k, v in r.items() if k != "school"} for r in rows(source, table.name)
                ]
                if table.name == "store_state":
                    data = [{**d, "revision": revision} for d in data]
                old = sa.Table(table.name, sa.MetaData(), autoload_with=conn)
                if data:
                    conn.execute(old.insert(), data)
                serial = "id" in old.c and isinstance(old.c.id.type, sa.Integer)
                if data and serial and conn.dialect.name == "postgresql":
                    # Copied ids: move the sequence on (table names are the schema's own).
                    name = table.name
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    conn.execute(
                        sa.text(f"SELECT setval({sequence}, (SELECT max(id) FROM {name}))")  # noqa: S608
                    )
    finally:
        engine.dispose()


@pytest.fixture
def legacy_url(backend: str, tmp_path: Path, store: Store) -> Iterator[tuple[str, Store]]:
    """A store upgraded from r0003 that held one school, and the store it was copied from."""
    store.sync(school(range(20)), today=TODAY)
    refused = store.plan(school(range(10)), today=TODAY)
    with pytest.raises(GuardRefused):
        store.apply(refused)
    url, pg = new_store_url(backend, tmp_path)
    try:
        _build_r0003_store(url, store)
        yield url, store
    finally:
        if pg is not None:
            pg.drop()


def _comparable(store: Store, table: str) -> list[tuple[Any, ...]]:
    skip = {"id"} if table in ("run", "run_error", "audit", "guard_ledger") else set()
    return sorted(
        tuple(repr(v) for k, v in sorted(r.items()) if k not in skip) for r in rows(store, table)
    )


def test_r0004_moves_every_row_in_under_default(legacy_url: tuple[str, Store]) -> None:
    url, source = legacy_url
    with open_store(url) as moved:
        for table in schema.metadata.sorted_tables:
            if table.name in ("school", "audit"):
                continue
            assert _comparable(moved, table.name) == _comparable(source, table.name), table.name
        assert [(r["name"], r["legacy"]) for r in rows(moved, "school")] == [("default", True)]
        (note,) = [r for r in rows(moved, "audit") if r["action"] == "migrate"]
        assert note["detail"]["revision"] == "0004" and note["detail"]["rows"]["student"] == 20
        # The plan refused before the upgrade still awaits review, and still approves.
        assert len(moved.status()["plans_awaiting_review"]) == 1


def test_the_first_named_run_claims_a_one_school_store(legacy_url: tuple[str, Store]) -> None:
    url, _ = legacy_url
    with open_store(url) as moved:
        before = {r["id"] for r in rows(moved, "student")}
        plan = moved.plan(school(range(20)), today=TODAY, school=OAK)
        assert plan.claims == "default" and plan.empty  # the same school: nothing to change
        report = moved.apply(plan)
        assert report.applied
        assert moved.schools() == [OAK]
        assert {r["id"] for r in rows(moved, "student", school=OAK)} == before
        assert rows(moved, "student", school="default") == []
        assert moved.plan(school(range(20)), today=TODAY, school=OAK).empty
        # Once claimed, another new school starts empty.
        other = moved.plan(school(range(3)), today=TODAY, school=ELM)
        assert other.claims is None and other.counts()["students"]["created"] == 3


def test_a_claim_the_guard_refuses_claims_nothing(legacy_url: tuple[str, Store]) -> None:
    url, _ = legacy_url
    with open_store(url) as moved:
        # Another school's extract (other pupils) would disable all twenty: refused.
        stranger = school(range(100, 104))
        plan = moved.plan(stranger, today=TODAY, school=ELM)
        assert plan.claims == "default" and plan.breaches
        with pytest.raises(GuardRefused):
            moved.apply(plan)
        assert [(r["name"], r["legacy"]) for r in rows(moved, "school")] == [("default", True)]
        assert len(rows(moved, "student", school="default")) == 20
        # Without a claim, the school starts empty and nothing of the old one moves.
        fresh = moved.planner("wonde", school=ELM, claim=False)
        assert fresh.state.claims is None and not fresh.state.kinds["student"].rows
