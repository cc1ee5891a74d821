"""Switched MIS: ids cleared, natural keys match, nothing duplicated, nothing guessed."""

from __future__ import annotations

from datetime import date

import pytest
from attrs import evolve

from misbridge.model import Dataset, Student
from misbridge.store import Store
from misbridge.store.kinds import KINDS_BY_NAME
from misbridge.store.matching import match_natural
from misbridge.testing.school import sample_school
from tests.core.store.factory import TODAY, extract, rows, school, snapshot, student
from tests.core.store.sources import normalised, renumbered


@pytest.fixture(scope="module")
def schools() -> tuple[object, object]:
    first = sample_school(seed=3, students=80, staff=10)
    return first, renumbered(first, lambda old: f"arbor-{old}-x")


def test_switch_then_the_same_school_from_another_mis(store: Store, schools: tuple) -> None:
    sims_school, arbor_school = schools
    store.sync(normalised(sims_school, "sims"), today=TODAY)
    before = {t: len(r) for t, r in snapshot(store, history=False).items()}
    stored_ids = {r["internal_id"] for r in rows(store, "mis_id")}

    assert store.switch_mis() == len(stored_ids)
    assert rows(store, "mis_id") == []
    (audit,) = [r for r in rows(store, "audit") if r["action"] == "switch-mis"]
    assert audit["detail"] == {"cleared": len(stored_ids), "by_mis": {"sims": len(stored_ids)}}

    plan = store.plan(normalised(arbor_school, "arbor"), today=TODAY)
    assert plan.breaches == []
    for dataset, dplan in plan.datasets.items():
        counts = dplan.counts()
        assert counts["created"] == 0, dataset
        assert counts["disabled"] == counts["memberships_ended"] == 0, dataset
        assert counts["memberships_started"] == counts["updated"] == 0, dataset
        assert counts["ambiguous"] == counts["unmatched"] == counts["rejected"] == 0, dataset
    links = [link for d in plan.datasets.values() for link in d.links]
    assert {link.id for link in links} == stored_ids
    assert {link.matched_by for link in links if link.kind == "student"} == {"UPN"}
    # Staff match by name, as a switched MIS's staff must; an email only breaks a tie.
    assert {link.matched_by for link in links if link.kind == "staff"} == {"name"}
    report = store.apply(plan)
    assert report.writes == len(stored_ids)  # the new ids, and nothing else

    after = {t: len(r) for t, r in snapshot(store, history=False).items()}
    assert after == before  # no duplicates: same number of rows everywhere
    new_ids = rows(store, "mis_id")
    assert {r["mis"] for r in new_ids} == {"arbor"}
    assert all(r["mis_id"].startswith("arbor-") for r in new_ids)
    assert {r["internal_id"] for r in new_ids} == stored_ids
    assert store.plan(normalised(arbor_school, "arbor"), today=TODAY).empty


def test_students_without_upn_match_by_name_and_date_of_birth(store: Store) -> None:
    store.sync(school(range(6)), today=TODAY)
    store.switch_mis()
    again = school(range(6), mis="bromcom")
    again.records[Dataset.STUDENTS] = [
        evolve(s, mis_id=f"B{s.mis_id}", upn=None, legal_forename=s.legal_forename.upper())
        for s in again.records[Dataset.STUDENTS]  # type: ignore[union-attr]
    ]
    plan = store.plan(_renumber_rest(again), today=TODAY)
    links = plan.datasets[Dataset.STUDENTS].links
    assert len(links) == 6
    assert {link.matched_by for link in links} == {"name and date of birth"}


def _renumber_rest(result: object) -> object:
    """Staff, groups and memberships of ``school()`` under the "B" numbering too."""
    for dataset in (Dataset.STAFF, Dataset.GROUPS, Dataset.YEARS):
        result.records[dataset] = [  # type: ignore[attr-defined]
            evolve(r, mis_id=f"B{r.mis_id}")
            if hasattr(r, "mis_id")
            else evolve(r, group_mis_id=f"B{r.group_mis_id}", person_mis_id=f"B{r.person_mis_id}")
            for r in result.records[dataset]  # type: ignore[attr-defined]
        ]
    return result


def test_ambiguous_records_are_reported_not_guessed_nor_disabled(store: Store) -> None:
    twin_a = student(1, upn=None, legal_forename="Sam", legal_surname="Lee")
    twin_b = student(2, upn=None, legal_forename="Sam", legal_surname="Lee", username="x2")
    twin_b = evolve(twin_b, date_of_birth=twin_a.date_of_birth)
    store.sync(extract(records={Dataset.STUDENTS: [twin_a, twin_b, student(3)]}), today=TODAY)
    store.switch_mis()
    incoming = [
        evolve(twin_a, mis_id="N1"),
        evolve(student(3), mis_id="N3"),
        evolve(student(4), mis_id="N4"),  # a new joiner since
    ]
    plan = store.plan(extract("arbor", {Dataset.STUDENTS: incoming}), today=TODAY)
    dplan = plan.datasets[Dataset.STUDENTS]
    (error,) = dplan.errors
    assert (error.code, error.mis_id, error.field) == ("MB8002", "N1", "mis_id")
    assert "matches 2 records already in the store by name and date of birth" in error.message
    assert dplan.ambiguous == ["admission number 000001"]
    assert [link.mis_id for link in dplan.links] == ["N3"]
    assert [c.mis_id for c in dplan.unmatched] == ["N4"]
    assert dplan.disables == []  # neither twin is disabled while it is unclear which is which
    report = store.apply(plan)
    assert report.counts["students"]["created"] == 1
    assert len(rows(store, "student")) == 4


def test_a_second_mis_links_by_natural_key_without_a_switch(store: Store) -> None:
    store.sync(school(range(5)), today=TODAY)
    wonde_ids = {r["internal_id"] for r in rows(store, "mis_id", mis="wonde")}
    other = extract(
        "arbor", {Dataset.STUDENTS: [evolve(student(n), mis_id=f"A{n}") for n in range(5)]}
    )
    plan = store.plan(other, today=TODAY)
    assert plan.datasets[Dataset.STUDENTS].counts()["linked"] == 5
    store.apply(plan)
    arbor_ids = {r["internal_id"] for r in rows(store, "mis_id", mis="arbor")}
    assert arbor_ids <= wonde_ids and len(arbor_ids) == 5
    assert len(rows(store, "student")) == 5
    assert store.plan(other, today=TODAY).empty


def test_a_leaver_returning_after_the_switch_keeps_their_id(store: Store) -> None:
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(1, 20)), today=TODAY)  # S0 leaves
    (left,) = [r for r in rows(store, "student") if not r["enabled"]]
    store.switch_mis()
    moved = [evolve(student(n), mis_id=f"N{n}") for n in range(1, 20)]
    store.sync(extract("arbor", {Dataset.STUDENTS: moved}), today=TODAY)
    back = store.plan(
        extract("arbor", {Dataset.STUDENTS: [*moved, evolve(student(0), mis_id="N0")]}),
        today=TODAY,
    )
    dplan = back.datasets[Dataset.STUDENTS]
    assert [(link.id, link.matched_by) for link in dplan.links] == [(left["id"], "UPN")]
    assert [r.id for r in dplan.reenables] == [left["id"]]
    assert dplan.creates == []


STUDENT = KINDS_BY_NAME["student"]


def _values(record: Student) -> dict[str, object]:
    return STUDENT.values(record)


def test_match_natural_prefers_upn_and_folds_names() -> None:
    stored = {
        "a": _values(student(1)),
        "b": _values(student(2, upn=None, legal_forename="Zoë", legal_surname="O'Neil")),
        "c": _values(student(3, upn="A000000000009")),
    }
    incoming = [
        _values(student(7, upn=student(1).upn, legal_forename="Different")),  # UPN wins
        _values(
            student(
                8,
                upn=None,
                legal_forename="  ZOË ",
                legal_surname="o'neil",
                date_of_birth=student(2).date_of_birth,
            )
        ),
        _values(student(9, upn=None)),  # nothing matches
        _values(student(3, upn=None, date_of_birth=date(2000, 1, 1))),  # same name, other dob
    ]
    found = match_natural(STUDENT, incoming, stored)
    assert [(m.id, m.by) for m in found] == [
        ("a", "UPN"),
        ("b", "name and date of birth"),
        (None, None),
        (None, None),
    ]


def test_match_natural_ambiguity() -> None:
    twin = {"upn": "X1", "legal_forename": "Al", "legal_surname": "Li", "date_of_birth": TODAY}
    stored = {
        "a": {**twin},
        "b": {**twin, "legal_forename": "Bo"},
        "c": {**twin, "upn": "Y1"},
    }
    # A UPN keyed on two stored records: the name narrows it down to one.
    (narrowed,) = match_natural(STUDENT, [{**twin, "legal_forename": "Bo", "upn": "X1"}], stored)
    assert (narrowed.id, narrowed.by) == ("b", "UPN, then name and date of birth")
    # Nothing narrows "a" and "c" apart by name: both remain in question.
    (unclear,) = match_natural(STUDENT, [{**twin, "upn": None}], stored)
    assert unclear.ambiguous and set(unclear.candidates) == {"a", "c"}
    # Two incoming records claiming one stored record: both ambiguous.
    claims = match_natural(STUDENT, [{**twin, "upn": "Y1"}, {**twin, "upn": "Y1"}], stored)
    assert [m.candidates for m in claims] == [("c",), ("c",)]
