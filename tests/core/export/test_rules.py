"""The named cases: what a format requires and a record lacks is reported per record and
never made up; the shared mapping rules (grades, sex, dates, courses, primary teacher)."""

from __future__ import annotations

from datetime import date

import pytest
from attrs import evolve

from misbridge.errors import RecordError, Severity, Stage
from misbridge.export import build_oneroster, build_sds, demographics_allowed
from misbridge.export.package import Package
from misbridge.export.roster import Roster, Session
from misbridge.export.rules import sex_of
from tests.core.export import oneroster_spec, sds_spec
from tests.core.export.schools import (
    ORG,
    YEAR,
    klass,
    member,
    roster,
    small_school,
    student,
    teacher,
)
from tests.core.export.test_validators import _zip


def _rows(package: Package, name: str) -> list[dict[str, str]]:
    table = package.table(name)
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


def _oneroster(
    r: Roster, version: str = "1.2", demographics: bool = True
) -> tuple[Package, list[RecordError]]:
    package, issues = build_oneroster(r, version=version, demographics=demographics, **ORG)
    files = {t.name: [list(t.header), *map(list, t.rows)] for t in package.tables}
    assert oneroster_spec.validate(_zip(files), version) == []
    return package, issues.errors


def _sds(r: Roster, demographics: bool = True) -> tuple[Package, list[RecordError]]:
    package, issues = build_sds(r, org_name=ORG["org_name"], demographics=demographics)
    files = {t.name: [list(t.header), *map(list, t.rows)] for t in package.tables}
    assert sds_spec.validate(_zip(files)) == []
    return package, issues.errors


def _codes(errors: list[RecordError]) -> set[tuple[str, str | None]]:
    return {(e.code, e.record_label) for e in errors}


def test_a_class_without_an_academic_session_is_reported_not_invented() -> None:
    base = small_school()
    last_year = klass(9, name="6x/Ma1")
    pupil = student(9)
    # Its only membership ended before the only academic year held began.
    old = member(last_year, pupil, date(2025, 9, 1), date(2026, 7, 20))
    r = evolve(
        base,
        classes=(*base.classes, last_year),
        people=(*base.people, pupil),
        enrolments=(*base.enrolments, old),
    )
    package, errors = _oneroster(r)
    assert ("MB7020", last_year.origin.label) in _codes(errors)
    titles = {c["title"] for c in _rows(package, "classes.csv")}
    assert "6x/Ma1" not in titles and "7x/Ma0" in titles
    error = next(e for e in errors if e.code == "MB7020")
    assert (error.severity, error.stage, error.dataset, error.field) == (
        Severity.ERROR,
        Stage.PROCESSING,
        "groups",
        "academic_session",
    )
    assert "not exported" in error.message and "SIMS" in error.message
    # SDS does not require a session: the class goes, with none.
    sds, sds_errors = _sds(r)
    row = next(c for c in _rows(sds, "classes.csv") if c["title"] == "6x/Ma1")
    assert row["sessionSourcedIds"] == "" and not any(e.code == "MB7020" for e in sds_errors)


def test_staff_who_teach_nothing_have_no_oneroster_role() -> None:
    base = small_school()
    office = teacher(7)
    r = evolve(base, people=(*base.people, office))
    package, errors = _oneroster(r)
    assert _codes(errors) == {("MB7010", "staff code T07")}
    assert "t7@example.sch.uk" not in {u["username"] for u in _rows(package, "users.csv")}
    sds, sds_errors = _sds(r)
    roles = {r["userSourcedId"]: r["role"] for r in _rows(sds, "roles.csv")}
    assert (
        roles[r.sourced_id(office.key)] == "staff" and roles[r.sourced_id("staff:T0")] == "teacher"
    )
    assert sds_errors == []


def test_sds_needs_a_school_email_as_the_sign_in_name() -> None:
    base = small_school()
    home_only = student(8, work_email=None)
    r = evolve(base, people=(*base.people, home_only))
    sds, errors = _sds(r)
    assert _codes(errors) == {("MB7002", "admission number 000008")}
    assert r.sourced_id(home_only.key) not in {u["sourcedId"] for u in _rows(sds, "users.csv")}
    # OneRoster takes the account's username and the contact email.
    package, oneroster_errors = _oneroster(r)
    user = next(u for u in _rows(package, "users.csv") if u["identifier"] == "000008")
    assert (user["username"], user["email"]) == ("000008", "pupil8@example.org")
    assert oneroster_errors == []


def test_no_username_and_no_email_is_reported() -> None:
    base = small_school()
    guest = student(8, username=None, personal_email=None, work_email=None, identifier=None)
    r = evolve(base, people=(*base.people, guest))
    _, errors = _oneroster(r)
    assert _codes(errors) == {("MB7001", "admission number 000008")}


def test_a_class_without_a_subject_has_no_course() -> None:
    base = small_school()
    unnamed = klass(5, name="7x/Xx1", subject=None)
    r = evolve(
        base,
        classes=(*base.classes, unnamed),
        enrolments=(*base.enrolments, member(unnamed, base.people[0])),
    )
    package, errors = _oneroster(r)
    assert _codes(errors) == {("MB7021", unnamed.origin.label)}
    assert "7x/Xx1" not in {c["title"] for c in _rows(package, "classes.csv")}
    sds, sds_errors = _sds(r)
    row = next(c for c in _rows(sds, "classes.csv") if c["title"] == "7x/Xx1")
    assert row["courseSourcedId"] == "" and sds_errors == []


def test_courses_one_per_subject_and_one_for_registration() -> None:
    base = small_school()
    other_maths = klass(6, name="7y/Ma2", subject="  maths ")
    r = evolve(
        base,
        classes=(*base.classes, other_maths),
        enrolments=(*base.enrolments, member(other_maths, base.people[3])),
    )
    package, _ = _oneroster(r)
    courses = {c["title"]: c for c in _rows(package, "courses.csv")}
    assert set(courses) == {"Maths", "English", "Registration"}
    classes = {c["title"]: c for c in _rows(package, "classes.csv")}
    assert classes["7y/Ma2"]["courseSourcedId"] == classes["7x/Ma0"]["courseSourcedId"]
    assert (
        classes["7A"]["classType"] == "homeroom" and classes["7x/Ma0"]["classType"] == "scheduled"
    )
    # Every class of a course runs in the one academic year: the course names it.
    assert {c["schoolYearSourcedId"] for c in courses.values()} == {r.sourced_id(YEAR.key)}


def test_a_course_over_two_years_names_none() -> None:
    base = small_school()
    earlier = Session(
        "academic_year:AY0", "2025/2026", date(2025, 9, 1), date(2026, 7, 31), YEAR.origin
    )
    maths = base.classes[0]
    pupil = base.people[0]
    r = evolve(
        base,
        sessions=(earlier, YEAR),
        enrolments=(*base.enrolments, member(maths, pupil, date(2025, 9, 1), date(2026, 7, 31))),
    )
    package, _ = _oneroster(r)
    course = next(c for c in _rows(package, "courses.csv") if c["title"] == "Maths")
    assert course["schoolYearSourcedId"] == ""
    row = next(c for c in _rows(package, "classes.csv") if c["title"] == maths.name)
    assert row["termSourcedIds"] == f"{r.sourced_id(earlier.key)},{r.sourced_id(YEAR.key)}"


def test_enrolment_dates_are_exclusive_at_the_end_and_within_the_class_year() -> None:
    base = small_school()
    maths = base.classes[0]
    early = student(5)
    # Joined before the year held begins, leaves mid-year; another has no dates at all.
    open_ended = student(6)
    r = evolve(
        base,
        people=(*base.people, early, open_ended),
        enrolments=(
            *base.enrolments,
            member(maths, early, date(2026, 6, 1), date(2027, 2, 12)),
            member(maths, open_ended, None, None),
        ),
    )
    package, _ = _oneroster(r)
    by_user = {e["userSourcedId"]: e for e in _rows(package, "enrollments.csv")}
    moved = by_user[r.sourced_id(early.key)]
    assert (moved["beginDate"], moved["endDate"]) == ("2026-09-01", "2027-02-13")
    loose = by_user[r.sourced_id(open_ended.key)]
    assert (loose["beginDate"], loose["endDate"]) == ("", "")
    sessions = {a["title"]: a for a in _rows(package, "academicSessions.csv")}
    assert (sessions["2026/2027"]["endDate"], sessions["2026/2027"]["schoolYear"]) == (
        "2027-08-01",
        "2027",
    )
    sds, _ = _sds(r)
    (year,) = _rows(sds, "academicSessions.csv")
    assert (year["startDate"], year["endDate"]) == ("2026-09-01", "2027-07-31")


def test_primary_teacher_only_when_the_mis_shows_one() -> None:
    base = small_school()
    maths = base.classes[0]
    r = evolve(base, enrolments=(*base.enrolments, member(maths, base.people[5])))
    package, _ = _oneroster(r)
    rows = _rows(package, "enrollments.csv")
    primary = {(e["classSourcedId"], e["role"], e["primary"]) for e in rows}
    maths_id, english_id = r.sourced_id(maths.key), r.sourced_id(base.classes[1].key)
    assert (maths_id, "teacher", "") in primary  # two teachers: which is primary is unknown
    assert (english_id, "teacher", "true") in primary  # the only teacher
    assert {e["primary"] for e in rows if e["role"] == "student"} == {"false"}


@pytest.mark.parametrize(
    ("year_group", "oneroster", "sds"),
    [("7", "07", "7"), ("13", "13", "13"), ("R", "KG", "KG"), ("N2", "PK", "PK"), ("1", "01", "1")],
)
def test_grades_by_nc_year(year_group: str, oneroster: str, sds: str) -> None:
    pupil = student(0, year_group=year_group)
    base = small_school()
    r = evolve(base, people=(pupil, *base.people[1:]))
    package, errors = _oneroster(r)
    user = next(u for u in _rows(package, "users.csv") if u["identifier"] == "000000")
    assert user["grades"] == oneroster and errors == []
    sds_package, _ = _sds(r)
    role = next(
        x for x in _rows(sds_package, "roles.csv") if x["userSourcedId"] == r.sourced_id(pupil.key)
    )
    assert role["grade"] == sds


def test_a_year_group_with_no_grade_is_left_blank_and_reported() -> None:
    base = small_school()
    r = evolve(base, people=(student(0, year_group="Y7"), *base.people[1:]))
    package, errors = _oneroster(r)
    assert _codes(errors) == {("MB7040", "admission number 000000")}
    assert errors[0].severity is Severity.WARNING
    user = next(u for u in _rows(package, "users.csv") if u["identifier"] == "000000")
    assert user["grades"] == ""


def test_a_line_break_becomes_a_space_and_is_reported_without_the_value() -> None:
    base = small_school()
    r = evolve(
        base, people=(student(0, legal_surname="Smith\r\nJones\u2028Brown"), *base.people[1:])
    )
    package, errors = _oneroster(r)
    user = next(u for u in _rows(package, "users.csv") if u["identifier"] == "000000")
    assert user["familyName"] == "Smith  Jones Brown"
    (warning,) = errors
    assert (warning.code, warning.severity, warning.field) == (
        "MB7030",
        Severity.WARNING,
        "surname",
    )
    assert "Smith" not in warning.message and "admission number 000000" in warning.message


def test_missing_names_are_reported_and_messages_carry_no_names() -> None:
    base = small_school()
    r = evolve(
        base,
        people=(student(0, legal_forename=None), student(1, legal_surname="  "), *base.people[2:]),
    )
    _, errors = _oneroster(r)
    assert {(e.code, e.field, e.record_label) for e in errors} == {
        ("MB7003", "forename", "admission number 000000"),
        ("MB7003", "surname", "admission number 000001"),
    }
    assert not any("Surname0" in e.message or "Forename1" in e.message for e in errors)


def test_sex_is_male_or_female_never_guessed() -> None:
    assert [sex_of(g) for g in ("Male", "female", "M", "F", "Non-binary", "X", None)] == [
        "male", "female", "male", "female", None, None, None,
    ]  # fmt: skip


def test_demographics_follow_the_profile() -> None:
    assert demographics_allowed("roster") and not demographics_allowed("account-sync")
    r = small_school()
    package, _ = _oneroster(r, demographics=False)
    assert "demographics.csv" not in {t.name for t in package.tables}
    package, _ = _oneroster(r, demographics=True)
    assert {d["birthDate"] for d in _rows(package, "demographics.csv")} == {
        p.date_of_birth.isoformat() for p in r.people if p.date_of_birth
    }
    sds, _ = _sds(r, demographics=False)
    assert "demographics.csv" not in {t.name for t in sds.tables}


def test_sds_always_writes_the_same_files() -> None:
    empty = roster([teacher(0)], [], [])
    full, _ = _sds(small_school())
    bare, _ = _sds(empty)
    assert [t.name for t in full.tables] == [t.name for t in bare.tables]
    assert all(not t.rows for t in bare.tables if t.name in ("classes.csv", "enrollments.csv"))


def test_oneroster_leaves_out_files_with_no_rows() -> None:
    package, errors = _oneroster(roster([student(0)], [], []))
    names = {t.name for t in package.tables}
    assert (
        "classes.csv" not in names and "enrollments.csv" not in names and "courses.csv" not in names
    )
    manifest = {r["propertyName"]: r["value"] for r in _rows(package, "manifest.csv")}
    assert manifest["file.classes"] == "absent" and manifest["file.users"] == "bulk"
    assert errors == []


def test_the_org_comes_from_the_options() -> None:
    package, _ = _oneroster(small_school())
    (org,) = _rows(package, "orgs.csv")
    assert (org["name"], org["identifier"], org["type"]) == (
        "Hollowfield Academy",
        "140321",
        "school",
    )
    sds, _ = _sds(small_school())
    (sds_org,) = _rows(sds, "orgs.csv")
    assert sds_org["sourcedId"] == org["sourcedId"]


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"choose one of 1\.1, 1\.2"):
        build_oneroster(small_school(), version="1.0", **ORG)


def test_a_given_academic_year_is_used_only_when_none_is_held() -> None:
    held = small_school()
    bare = evolve(held, sessions=())
    _, errors = _oneroster(bare)
    assert {e.code for e in errors} == {"MB7020"} and len(errors) == len(bare.classes)
    given = bare.with_academic_year(date(2026, 9, 1), date(2027, 7, 31))
    package, errors = _oneroster(given)
    assert errors == [] and len(_rows(package, "classes.csv")) == len(bare.classes)
    (year,) = _rows(package, "academicSessions.csv")
    assert (year["title"], year["startDate"], year["endDate"]) == (
        "2026/2027",
        "2026-09-01",
        "2027-08-01",
    )
    again = bare.with_academic_year(date(2026, 9, 1), date(2027, 7, 31))
    assert again.sourced_id(again.sessions[0].key) == year["sourcedId"]
    assert held.with_academic_year(date(2030, 9, 1), date(2031, 7, 31)) is held
    with pytest.raises(ValueError, match="ends before it starts"):
        bare.with_academic_year(date(2027, 7, 31), date(2026, 9, 1))


def test_a_pupil_who_left_a_class_and_came_back() -> None:
    base = small_school()
    maths, pupil = base.classes[0], base.people[0]
    back = member(maths, pupil, date(2027, 1, 4), date(2027, 7, 31))
    first = member(maths, pupil, date(2026, 9, 1), date(2026, 12, 18))
    others = tuple(
        e for e in base.enrolments if (e.class_key, e.person_key) != (maths.key, pupil.key)
    )
    r = evolve(base, enrolments=(*others, first, back))
    package, _ = _oneroster(r)
    spans = {
        (e["beginDate"], e["endDate"])
        for e in _rows(package, "enrollments.csv")
        if e["userSourcedId"] == r.sourced_id(pupil.key)
        and e["classSourcedId"] == r.sourced_id(maths.key)
    }
    assert spans == {("2026-09-01", "2026-12-19"), ("2027-01-04", "2027-08-01")}
    sds, _ = _sds(r)
    rows = [
        e
        for e in _rows(sds, "enrollments.csv")
        if (e["classSourcedId"], e["userSourcedId"])
        == (r.sourced_id(maths.key), r.sourced_id(pupil.key))
    ]
    assert len(rows) == 1
