"""Planning and applying: creates, updates, leavers, returners, accounts, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from misbridge.errorcodes import make_error
from misbridge.errors import Severity, Stage, StoreError
from misbridge.model import Dataset, EmailPreference, GroupKind
from misbridge.result import ExtractResult
from misbridge.store import Store, open_store
from misbridge.store.migrate import head_revision
from tests.core.store.factory import (
    FAILED,
    PARTIAL,
    TODAY,
    extract,
    group,
    membership,
    photo,
    result_of,
    rows,
    school,
    snapshot,
    staff,
    student,
    student_row,
)


def test_first_apply_creates_everything_and_reapply_writes_nothing(store: Store) -> None:
    first = store.sync(school(range(20)), today=TODAY)
    assert first.applied and first.writes > 0
    counts = first.counts
    assert counts["students"]["created"] == 20
    assert counts["staff"]["created"] == 3
    assert counts["groups"]["created"] == 2
    assert counts["groups"]["memberships_started"] == 20
    assert counts["years"]["created"] == 2

    before = snapshot(store, history=False)
    plan = store.plan(school(range(20)), today=TODAY)
    assert plan.empty
    again = store.apply(plan)
    assert again.writes == 0
    assert snapshot(store, history=False) == before
    assert store.status()["runs"] == 2  # the no-op run is still on record


def test_field_level_update(store: Store) -> None:
    store.sync(school(range(5)), today=TODAY)
    changed = school(range(5))
    changed.records[Dataset.STUDENTS][2] = student(2, legal_surname="Newname", fsm=True)
    plan = store.plan(changed, today=TODAY)
    (update,) = plan.datasets[Dataset.STUDENTS].updates
    assert update.label == "admission number 000002"
    assert {k: (c.old, c.new) for k, c in update.changes.items()} == {
        "legal_surname": ("Surname2", "Newname"),
        "fsm": (False, True),
    }
    assert plan.as_dict()["datasets"]["students"]["updates"][0]["changes"]["fsm"] == {
        "old": False,
        "new": True,
    }
    store.apply(plan)
    row = student_row(store, "S2")
    assert row["legal_surname"] == "Newname" and row["fsm"] is True
    assert store.plan(changed, today=TODAY).empty


def test_leaver_disabled_never_deleted_and_returner_keeps_id(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    original = student_row(store, "S4")
    store.sync(school([n for n in range(20) if n != 4]), today=TODAY)
    gone = student_row(store, "S4")
    assert gone["enabled"] is False and gone["disabled_at"] is not None
    assert gone["legal_surname"] == "Surname4"  # data kept
    (ended,) = rows(store, "membership", person_id=original["id"])
    assert ended["enabled"] is False

    report = store.sync(school(range(20)), today=TODAY)
    assert report.counts["students"]["re_enabled"] == 1
    assert report.counts["students"]["created"] == 0
    assert report.counts["groups"]["memberships_started"] == 1
    back = student_row(store, "S4")
    assert back["id"] == original["id"] and back["enabled"] is True
    assert back["disabled_at"] is None
    assert len(rows(store, "student")) == 20


def test_student_with_past_leaving_date_is_a_leaver(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    left = school(range(20))
    left.records[Dataset.STUDENTS][7] = student(7, leaving_date=TODAY - timedelta(days=1))
    plan = store.plan(left, today=TODAY)
    (disable,) = plan.datasets[Dataset.STUDENTS].disables
    assert disable.reason == "leaving date has passed"
    store.apply(plan)
    assert student_row(store, "S7")["enabled"] is False
    # Leaving today is not leaving yet.
    stays = school(range(20))
    stays.records[Dataset.STUDENTS][7] = student(7, leaving_date=TODAY)
    assert store.plan(stays, today=TODAY).datasets[Dataset.STUDENTS].reenables


@pytest.mark.parametrize("outcome", [PARTIAL, FAILED])
def test_untrusted_dataset_never_disables(store: Store, outcome: object) -> None:
    store.sync(school(range(20)), today=TODAY)
    records = [] if outcome is FAILED else [student(n) for n in range(5)]
    partial = extract(records={Dataset.STUDENTS: records}, status={Dataset.STUDENTS: outcome})
    plan = store.plan(partial, today=TODAY)
    assert plan.datasets[Dataset.STUDENTS].disables == []
    assert not plan.breaches
    store.apply(plan)
    assert all(r["enabled"] for r in rows(store, "student"))


def test_record_rejected_by_the_extract_is_not_a_leaver(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    error = make_error(
        "MB1010", dataset="students", mis="wonde", mis_id="S3", label="admission number 000003"
    )
    broken = school(range(20), errors=[error])
    broken.records[Dataset.STUDENTS] = [student(n) for n in range(20) if n != 3]
    plan = store.plan(broken, today=TODAY)
    assert plan.datasets[Dataset.STUDENTS].disables == []
    assert plan.empty
    report = store.apply(plan)
    assert student_row(store, "S3")["enabled"] is True
    stored = rows(store, "run_error", run_id=report.run_id)
    assert [e["mis_id"] for e in stored] == ["S3"]
    # Without the error the same absence is a leaver.
    assert len(store.plan(_without(3), today=TODAY).datasets[Dataset.STUDENTS].disables) == 1


def _without(n: int) -> ExtractResult:
    result = school(range(20))
    result.records[Dataset.STUDENTS] = [student(i) for i in range(20) if i != n]
    return result


def test_contact_preference_only_set_when_the_account_is_created(store: Store) -> None:
    first = school(range(3))
    first.records[Dataset.STUDENTS][1] = student(1, email_preference=EmailPreference.WORK)
    store.sync(first, today=TODAY)
    assert student_row(store, "S1")["account"]["contact_preference"] == "Work"
    later = school(range(3))
    later.records[Dataset.STUDENTS][1] = student(1, email_preference=EmailPreference.PERSONAL)
    assert store.plan(later, today=TODAY).empty
    store.sync(later, today=TODAY)
    assert student_row(store, "S1")["account"]["contact_preference"] == "Work"


def test_username_in_use_rejects_that_record_only(store: Store) -> None:
    store.sync(school(range(3)), today=TODAY)
    clash = school(range(6))
    # A new student whose username (any case) belongs to S1, and one changing to S2's.
    clash.records[Dataset.STUDENTS][4] = student(4, username="000001")
    clash.records[Dataset.STUDENTS][0] = student(0, username="000002")
    clash.records[Dataset.STUDENTS][5] = student(5, username="ABC")
    plan = store.plan(clash, today=TODAY)
    errors = plan.datasets[Dataset.STUDENTS].errors
    assert sorted((e.mis_id, e.code, e.stage) for e in errors) == [
        ("S0", "MB8001", Stage.PROCESSING),
        ("S4", "MB8001", Stage.PROCESSING),
    ]
    assert all(e.severity is Severity.ERROR and "already in use" in e.message for e in errors)
    # S4's membership is skipped with it, not reported again.
    assert plan.datasets[Dataset.GROUPS].skipped == 1
    assert plan.datasets[Dataset.GROUPS].errors == []
    report = store.apply(plan)
    assert report.counts["students"]["created"] == 2  # S3 and S5
    assert [e.code for e in report.errors] == ["MB8001", "MB8001"]
    assert student_row(store, "S0")["account"]["username"] == "000000"  # unchanged
    assert rows(store, "mis_id", mis_id="S4", entity="student") == []
    stored = rows(store, "run_error", run_id=report.run_id)
    assert sorted(e["mis_id"] for e in stored) == ["S0", "S4"]
    assert {e["stage"] for e in stored} == {"processing"}
    # Case does not make a username different.
    upper = school(range(7))
    upper.records[Dataset.STUDENTS][5] = student(5, username="ABC")
    upper.records[Dataset.STUDENTS][6] = student(6, username="abc")
    (error,) = store.plan(upper, today=TODAY).datasets[Dataset.STUDENTS].errors
    assert error.mis_id == "S6"


def test_username_given_up_earlier_in_the_plan_can_be_taken(store: Store) -> None:
    store.sync(school(range(3)), today=TODAY)
    swap = school(range(4))
    swap.records[Dataset.STUDENTS][1] = student(1, username="renamed")
    swap.records[Dataset.STUDENTS][3] = student(3, username="000001")
    report = store.sync(swap, today=TODAY)
    assert report.errors == []
    assert student_row(store, "S3")["account"]["username"] == "000001"
    assert student_row(store, "S1")["account"]["username"] == "renamed"


def test_memberships_photos_and_results(store: Store) -> None:
    base = school(range(4))
    base.records[Dataset.PHOTOS] = [photo(1)]
    base.records[Dataset.EXAM_RESULTS] = [result_of(1)]
    for dataset in (Dataset.PHOTOS, Dataset.EXAM_RESULTS):
        base.outcomes[dataset] = base.outcomes[Dataset.STUDENTS]
    store.sync(base, today=TODAY)
    (stored_photo,) = rows(store, "photo")
    assert stored_photo["data"] == photo(1).data

    changed = school(range(4))
    changed.records[Dataset.PHOTOS] = [photo(1, data=b"\x89PNG\r\n\x1a\nnew")]
    changed.records[Dataset.EXAM_RESULTS] = [result_of(1, grade="9")]
    changed.outcomes.update({d: base.outcomes[d] for d in (Dataset.PHOTOS, Dataset.EXAM_RESULTS)})
    moved = list(changed.records[Dataset.GROUPS])
    moved[2] = membership(0, 0, end=TODAY)  # S0 leaves group 0 at the end of today
    moved.append(membership(1, 0, GroupKind.REGISTRATION, start=TODAY))
    changed.records[Dataset.GROUPS] = moved
    plan = store.plan(changed, today=TODAY)
    groups = plan.datasets[Dataset.GROUPS]
    assert [set(u.changes) for u in groups.updates] == [{"end_date"}]
    assert len(groups.memberships_started) == 1
    assert [set(u.changes) for u in plan.datasets[Dataset.PHOTOS].updates] == [{"sha256"}]
    assert [set(u.changes) for u in plan.datasets[Dataset.EXAM_RESULTS].updates] == [{"grade"}]
    store.apply(plan)
    (stored_photo,) = rows(store, "photo")
    assert stored_photo["data"].endswith(b"new")
    assert rows(store, "exam_result")[0]["grade"] == "9"
    assert store.plan(changed, today=TODAY).empty


def test_membership_of_unknown_person_is_a_processing_error(store: Store) -> None:
    result = school(range(2))
    result.records[Dataset.GROUPS] = [*result.records[Dataset.GROUPS], membership(0, 99)]
    plan = store.plan(result, today=TODAY)
    (error,) = plan.datasets[Dataset.GROUPS].errors
    assert (error.code, error.mis_id, error.stage) == ("MB8003", "S99", Stage.PROCESSING)
    assert "student" in error.message


def test_plan_hash_is_stable_and_independent_of_record_order(store: Store) -> None:
    store.sync(school(range(10)), today=TODAY)
    change = school(range(2, 12))
    reordered = school(range(2, 12))
    for records in reordered.records.values():
        records.reverse()
    first = store.plan(change, today=TODAY)
    assert first.hash == store.plan(change, today=TODAY).hash
    assert first.hash == store.plan(reordered, today=TODAY).hash
    assert first.hash != store.plan(school(range(3, 12)), today=TODAY).hash


def test_dry_run_writes_nothing(store: Store) -> None:
    store.sync(school(range(10)), today=TODAY)
    before = snapshot(store)
    report = store.sync(school(range(10, 20)), dry_run=True, today=TODAY)
    assert report.dry_run and not report.applied and report.refused
    assert report.counts["students"]["created"] == 10
    assert snapshot(store) == before


def test_stale_plan_and_foreign_plan_are_refused(store: Store, tmp_path: object) -> None:
    store.sync(school(range(10)), today=TODAY)
    old = store.plan(school(range(11)), today=TODAY)
    store.sync(school(range(12)), today=TODAY)
    before = snapshot(store)
    with pytest.raises(StoreError, match="changed since this plan was made"):
        store.apply(old)
    assert snapshot(store) == before
    with (
        open_store(f"sqlite:///{tmp_path}/other.db") as other,
        pytest.raises(StoreError, match="another store"),
    ):
        other.apply(old)


def test_staff_and_groups_update_and_leave(store: Store) -> None:
    store.sync(school(range(4)), today=TODAY)
    result = school(range(4))
    result.records[Dataset.STAFF] = [staff(0, surname="Married"), staff(1), staff(2)]
    result.records[Dataset.GROUPS] = [
        group(0, name="Maths 7A"),
        *(r for r in result.records[Dataset.GROUPS] if type(r).__name__ == "Membership"),
    ]
    plan = store.plan(result, today=TODAY, max_disable_share=1.0)
    assert [set(u.changes) for u in plan.datasets[Dataset.STAFF].updates] == [{"surname"}]
    groups = plan.datasets[Dataset.GROUPS]
    assert [d.label for d in groups.disables if d.kind == "group"] == [
        "registration Group 1 (MIS id G1)"
    ]
    assert [set(u.changes) for u in groups.updates] == [{"name"}]
    # The memberships of the disabled group are still in the extract: not ended.
    assert groups.memberships_ended == []


def test_status_and_saved_plan(store: Store) -> None:
    report = store.sync(school(range(5)), today=TODAY)
    status = store.status()
    assert status["records"]["student"] == {"enabled": 5, "disabled": 0, "purged": 0}
    assert status["mis_ids"] == {"wonde": 5 + 3 + 2 + 2}
    assert status["last_run"]["plan_hash"] == report.plan_hash
    assert status["last_run"]["status"] == "applied"
    assert status["schema_revision"] == head_revision()
    saved = store.saved_plan(report.plan_hash)
    assert saved is not None and saved["status"] == "applied"
    assert saved["body"]["datasets"]["students"]["creates"][0]["kind"] == "student"


def test_a_nul_character_rejects_that_record_on_every_backend(store: Store) -> None:
    store.sync(school(range(5)), today=TODAY)
    dirty = school(range(7))
    dirty.records[Dataset.STUDENTS][2] = student(2, legal_surname="Sur\x00name")  # stored
    dirty.records[Dataset.STUDENTS][6] = student(6, home_telephone="0\x00")  # new
    dirty.records[Dataset.EXAM_RESULTS] = [result_of(1, grade="A\x00"), result_of(3)]
    dirty.outcomes[Dataset.EXAM_RESULTS] = dirty.outcomes[Dataset.STUDENTS]
    report = store.sync(dirty, today=TODAY)
    assert sorted((e.code, e.mis_id) for e in report.errors) == [
        ("MB8004", "S1"),
        ("MB8004", "S2"),
        ("MB8004", "S6"),
    ]
    assert report.counts["students"]["created"] == 1  # S5; S6 rejected
    assert report.counts["students"]["disabled"] == 0  # S2 is there, only unstorable
    assert student_row(store, "S2")["legal_surname"] == "Surname2"
    assert len(rows(store, "exam_result")) == 1


def test_memberships_of_a_record_rejected_on_site_are_skipped_not_reported(store: Store) -> None:
    error = make_error(
        "MB1010", dataset="students", mis="wonde", mis_id="S9", label="admission number 000009"
    )
    result = school(range(10), errors=[error])
    result.records[Dataset.STUDENTS] = [student(n) for n in range(9)]  # S9 rejected on site
    plan = store.plan(result, today=TODAY)
    groups = plan.datasets[Dataset.GROUPS]
    assert groups.errors == []
    assert groups.skipped == 1
    assert len(groups.memberships_started) == 9


def _rename(store: Store, old: str, new: str) -> None:
    with store._engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))


def test_a_database_failure_is_a_store_error_without_pupils_data(store: Store) -> None:
    store.sync(school(range(3)), today=TODAY)
    plan = store.plan(school(range(5)), today=TODAY)
    _rename(store, "student", "student_elsewhere")
    try:
        with pytest.raises(StoreError, match="could not apply the plan") as failed:
            store.apply(plan)
        with pytest.raises(StoreError, match="could not read its roster"):
            store.plan(school(range(5)), today=TODAY)
    finally:
        _rename(store, "student_elsewhere", "student")
    shown = f"{failed.value} {failed.value.__cause__}"
    assert "Forename3" not in shown and "Surname4" not in shown
    assert "rolled back" in str(failed.value)
    assert len(rows(store, "student")) == 3
    assert store.plan(school(range(5)), today=TODAY).hash == plan.hash  # nothing moved
