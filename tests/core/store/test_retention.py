"""Retention: personal data of long-disabled records erased, rows and an audit kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from misbridge.errors import ConfigurationError
from misbridge.model import Dataset
from misbridge.store import Store, schema
from tests.core.store.factory import TODAY, photo, result_of, rows, school, student


def _age(store: Store, days: int) -> None:
    """Pretend every disable (and every run and plan) happened ``days`` earlier."""
    shift = timedelta(days=days)
    moved = [(t, "id", "disabled_at") for t in schema.ENTITY_TABLES]
    moved += [(schema.plan, "hash", "created_at"), (schema.run, "id", "finished_at")]
    with store._engine.begin() as conn:
        for table, key, column in moved:
            for rid, when in conn.execute(sa.select(table.c[key], table.c[column])).all():
                if when is not None:
                    conn.execute(
                        table.update().where(table.c[key] == rid).values({column: when - shift})
                    )


def _with_photo_and_results(students: range) -> object:
    result = school(students)
    result.records[Dataset.PHOTOS] = [photo(n) for n in students]
    result.records[Dataset.EXAM_RESULTS] = [result_of(n) for n in students]
    for dataset in (Dataset.PHOTOS, Dataset.EXAM_RESULTS):
        result.outcomes[dataset] = result.outcomes[Dataset.STUDENTS]
    return result


def test_purge_erases_personal_data_of_long_disabled_records(store: Store) -> None:
    store.sync(_with_photo_and_results(range(20)), today=TODAY)  # type: ignore[arg-type]
    store.sync(_with_photo_and_results(range(1, 20)), today=TODAY)  # type: ignore[arg-type]
    (leaver,) = [r for r in rows(store, "student") if not r["enabled"]]
    assert store.purge(older_than_days=365) == 0  # not old enough yet
    _age(store, 400)

    assert store.purge(older_than_days=365) == 3  # the student, their photo, their result
    (purged,) = rows(store, "student", id=leaver["id"])
    assert purged["purged_at"] is not None and purged["enabled"] is False
    # The school key says whose tombstone it is: not personal data.
    lifecycle = {"id", "school", "enabled", "created_at", "changed_at", "disabled_at", "purged_at"}
    personal = [c.name for c in schema.student.c if c.name not in lifecycle]
    assert all(purged[c] is None for c in personal)
    (account,) = rows(store, "account", person_id=leaver["id"])
    assert account["username"] is None and account["contact_preference"] is None
    (gone_photo,) = rows(store, "photo", person_id=leaver["id"])
    assert gone_photo["data"] is None and gone_photo["sha256"] is None
    (gone_result,) = rows(store, "exam_result", student_id=leaver["id"])
    assert gone_result["grade"] is None
    assert rows(store, "mis_id", internal_id=leaver["id"]) == []
    assert len(rows(store, "student")) == 20  # the row stays: nothing is deleted
    # Every plan body older than the period is cleared (they held the leaver's data).
    assert all(p["body"] is None for p in rows(store, "plan"))
    assert rows(store, "run_error") == []

    # Every purge leaves an audit entry, even one that found nothing to erase.
    first, audit = sorted(
        (a for a in rows(store, "audit") if a["action"] == "purge"), key=lambda a: a["id"]
    )
    assert sum(first["detail"]["purged"].values()) == 0
    assert audit["detail"]["purged"] == {
        "student": 1,
        "staff": 0,
        "photo": 1,
        "exam_result": 1,
        "assessment": 0,
    }
    assert audit["detail"]["ids"]["student"] == [leaver["id"]]
    assert store.status()["records"]["student"] == {"enabled": 19, "disabled": 0, "purged": 1}
    assert store.purge(older_than_days=365) == 0  # done once


def test_a_purged_person_who_returns_is_a_new_record(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(1, 20)), today=TODAY)
    _age(store, 40)
    store.purge(older_than_days=30)
    report = store.sync(school(range(20)), today=TODAY)
    assert report.counts["students"]["created"] == 1
    assert report.counts["students"]["re_enabled"] == 0
    assert report.errors == []  # the purged account's username was freed
    assert len(rows(store, "student")) == 21
    fresh = [r for r in rows(store, "student") if r["admission_number"] == "000000"]
    assert len(fresh) == 1 and fresh[0]["enabled"]


def test_purge_keeps_recent_plans_unless_they_name_the_purged(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(1, 20)), today=TODAY)
    _age(store, 40)
    # A leaver still listed with a leaving date keeps getting updates after leaving.
    listed = school(range(20))
    listed.records[Dataset.STUDENTS][0] = student(0, leaving_date=TODAY - timedelta(days=50))
    recent = store.sync(listed, today=TODAY).plan_hash
    unrelated = store.sync(school(range(1, 21)), today=TODAY, max_disable_share=1).plan_hash
    store.purge(older_than_days=30)
    bodies = {p["hash"]: p["body"] for p in rows(store, "plan")}
    assert bodies[recent] is None
    assert bodies[unrelated] is not None


def test_purge_period_is_checked(store: Store) -> None:
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigurationError):
            store.purge(older_than_days=bad)  # type: ignore[arg-type]


def test_purge_moves_the_revision_so_older_plans_cannot_refill_data(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(1, 20)), today=TODAY)
    _age(store, 40)
    listed = school(range(20))
    listed.records[Dataset.STUDENTS][0] = student(0, leaving_date=datetime(2026, 1, 1).date())
    stale = store.plan(listed, today=TODAY)
    store.purge(older_than_days=30)
    with pytest.raises(Exception, match="changed since this plan was made"):
        store.apply(stale)
