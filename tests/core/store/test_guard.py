"""The safety guard: over-threshold and empty plans are refused whole and approvable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from misbridge.errors import ConfigurationError, GuardRefused
from misbridge.model import Dataset
from misbridge.store import Store
from tests.core.store.factory import (
    PARTIAL,
    TODAY,
    extract,
    rows,
    school,
    snapshot,
    student,
)


def test_over_threshold_plan_is_refused_whole_and_saved(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    before = snapshot(store, history=False)
    # 3 of 20 students gone (15% > 10%), plus a harmless new one that must not land either.
    result = school([*range(3, 20), 20])
    with pytest.raises(GuardRefused) as refused:
        store.sync(result, today=TODAY)
    message = str(refused.value)
    assert "students: 3 of 20 active student records would be disabled (15.0%, limit 10%)" in (
        message
    )
    plan_hash = refused.value.context["plan_hash"]
    assert f"--approve {plan_hash}" in message
    assert snapshot(store, history=False) == before  # nothing applied, not even the create
    status = store.status()
    assert [p["hash"] for p in status["plans_awaiting_review"]] == [plan_hash]
    assert status["last_run"]["status"] == "refused"
    saved = store.saved_plan(plan_hash)
    assert saved is not None and saved["status"] == "refused"
    assert len(saved["body"]["datasets"]["students"]["disables"]) == 3


def test_approval_is_bound_to_the_exact_plan(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    result = school(range(3, 20))
    plan = store.plan(result, today=TODAY)
    assert [b.kind for b in plan.breaches] == ["student", "membership"]
    with pytest.raises(GuardRefused, match="not this plan's hash"):
        store.apply(plan, approve="0" * 64)
    other = store.plan(school(range(4, 20)), today=TODAY)
    with pytest.raises(GuardRefused):
        store.apply(other, approve=plan.hash)
    report = store.apply(plan, approve=plan.hash)
    assert report.applied and report.approved
    assert report.counts["students"]["disabled"] == 3
    assert store.saved_plan(plan.hash)["status"] == "applied"  # type: ignore[index]
    assert store.status()["plans_awaiting_review"] == []


def test_summer_handover_is_approvable_without_switching_the_guard_off(store: Store) -> None:
    # Years 7 to 11; on results day the whole of Year 11 has a leaving date in the past.
    store.sync(school(range(50)), today=TODAY)
    leavers = {n for n in range(50) if student(n).year_group == "11"}
    assert len(leavers) == 10
    summer = school(range(50))
    summer.records[Dataset.STUDENTS] = [
        evolve(student(n), leaving_date=TODAY - timedelta(days=1)) if n in leavers else student(n)
        for n in range(50)
    ]
    with pytest.raises(GuardRefused) as refused:
        store.sync(summer, today=TODAY)
    approved = store.sync(summer, today=TODAY, approve=refused.value.context["plan_hash"])
    assert approved.counts["students"]["disabled"] == 10
    disabled = {r["admission_number"] for r in rows(store, "student") if not r["enabled"]}
    assert disabled == {f"{n:06d}" for n in leavers}
    # The guard is still on for the next night.
    with pytest.raises(GuardRefused):
        store.sync(school(range(30)), today=TODAY)


@pytest.mark.parametrize("share", [0.10, 1.0])
def test_empty_complete_extract_is_refused_whatever_the_share(store: Store, share: float) -> None:
    store.sync(school(range(5)), today=TODAY)
    empty = extract(records={Dataset.STUDENTS: []})
    plan = store.plan(empty, today=TODAY, max_disable_share=share)
    (breach,) = plan.breaches
    assert (breach.kind, breach.reason, breach.disables, breach.active) == (
        "student",
        "empty",
        5,
        5,
    )
    with pytest.raises(GuardRefused, match="holds no student records"):
        store.apply(plan)
    assert all(r["enabled"] for r in rows(store, "student"))


def test_empty_extract_of_an_empty_store_and_partial_extracts_pass(store: Store) -> None:
    assert store.plan(extract(records={Dataset.STUDENTS: []}), today=TODAY).breaches == []
    store.sync(school(range(5)), today=TODAY)
    partial = extract(records={Dataset.STUDENTS: []}, status={Dataset.STUDENTS: PARTIAL})
    assert store.plan(partial, today=TODAY).breaches == []


def test_threshold_is_a_share_and_is_checked(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    two_gone = school(range(2, 20))  # exactly 10%: allowed
    assert store.plan(two_gone, today=TODAY).breaches == []
    assert store.plan(school(range(5, 20)), today=TODAY, max_disable_share=0.25).breaches == []
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigurationError, match="between 0 and 1"):
            store.plan(two_gone, max_disable_share=bad)


def test_dry_run_judges_the_guard(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    report = store.sync(school(range(10)), today=TODAY, dry_run=True)
    assert report.refused and not report.applied
    assert {b.kind for b in report.breaches} == {"student", "membership"}
    approved = store.sync(school(range(10)), today=TODAY, dry_run=True, approve=report.plan_hash)
    assert not approved.refused


def test_nights_within_the_nightly_limit_add_up_to_the_cumulative_one(store: Store) -> None:
    store.sync(school(range(40)), today=TODAY)
    first = store.sync(school(range(4, 40)), today=TODAY)  # 4 of 40: 10%, allowed
    assert first.applied and first.counts["students"]["disabled"] == 4
    use = store.status(today=TODAY)["guard"]["kinds"]["student"]
    assert (use["window_disabled"], use["window_base"]) == (4, 40)
    assert use["window_left"] == 2  # 15% of 40 is 6
    # Three more the next night: 3 of 36 is under 10%, but 7 of 40 is over 15%.
    with pytest.raises(GuardRefused) as refused:
        store.sync(school(range(7, 40)), today=TODAY + timedelta(days=1))
    assert "since the last approved plan, within 14 days" in refused.value.message
    approved = store.sync(
        school(range(7, 40)),
        today=TODAY + timedelta(days=1),
        approve=refused.value.context["plan_hash"],
    )
    assert approved.approved
    # The approval starts a new window.
    use = store.status(today=TODAY + timedelta(days=1))["guard"]["kinds"]["student"]
    assert use["window_disabled"] == 0


def test_the_cumulative_window_forgets_what_is_older_than_its_days(store: Store) -> None:
    store.sync(school(range(40)), today=TODAY)
    store.sync(school(range(4, 40)), today=TODAY)
    later = TODAY + timedelta(days=15)
    report = store.sync(school(range(7, 40)), today=later)
    assert report.applied and report.counts["students"]["disabled"] == 3


def test_a_plan_emptying_a_field_for_many_records_is_refused(store: Store) -> None:
    store.sync(school(range(40)), today=TODAY)
    blanked = school(range(40))
    blanked.records[Dataset.STUDENTS] = [
        evolve(student(n), personal_email=None) if n < 4 else student(n) for n in range(40)
    ]
    with pytest.raises(GuardRefused, match="would lose their personal_email"):
        store.sync(blanked, today=TODAY)
    # A source that says it does not carry the field keeps the stored values instead.
    blanked.lacks = frozenset({"Student.personal_email"})
    report = store.sync(blanked, today=TODAY)
    assert report.counts["students"]["updated"] == 0
    assert all(r["personal_email"] for r in rows(store, "student"))
