"""Schools and rosters for the export tests: the sample school through the real
normaliser (with and without school email addresses), and small hand-built rosters for
the named cases."""

from __future__ import annotations

import uuid
from datetime import date
from functools import cache

from attrs import evolve

from misbridge.export.roster import Enrolment, Origin, Person, Roster, RosterClass, Session
from misbridge.model import EmailPreference, GroupKind, Role
from misbridge.result import ExtractResult
from misbridge.source import SourceEmail, SourceSchool
from misbridge.testing.school import sample_school
from tests.core.store.sources import normalised

ORG = {"org_name": "Hollowfield Academy", "org_identifier": "140321"}
TODAY = date(2026, 10, 1)


def with_school_emails(school: SourceSchool) -> SourceSchool:
    """The school as one that records every pupil's school address as the Work email."""
    students = tuple(
        evolve(s, emails=(*s.emails, SourceEmail("W", f"{s.mis_id}@pupils.hollowfield.sch.uk")))
        for s in school.students
    )
    return evolve(school, students=students)


@cache
def sample() -> SourceSchool:
    return with_school_emails(sample_school())


@cache
def sample_extract(mis: str = "sims") -> ExtractResult:
    return normalised(sample(), mis)


# -- hand-built rosters ---------------------------------------------------------------------

NAMESPACE = uuid.UUID("00000000-0000-4000-8000-000000000001")
YEAR = Session(
    "academic_year:AY",
    "2026/2027",
    date(2026, 9, 1),
    date(2027, 7, 31),
    Origin("years", "sims", "AY", "academic year 2026/2027 (MIS id AY)"),
)


def student(n: int, **changes: object) -> Person:
    person = Person(
        key=f"student:S{n}",
        role=Role.STUDENT,
        origin=Origin("students", "sims", f"S{n}", f"admission number {n:06d}"),
        legal_forename=f"Forename{n}",
        legal_surname=f"Surname{n}",
        identifier=f"{n:06d}",
        username=f"{n:06d}",
        email_preference=EmailPreference.PERSONAL,
        personal_email=f"pupil{n}@example.org",
        work_email=f"{n}@pupils.example.sch.uk",
        year_group="7",
        date_of_birth=date(2015, 1 + n % 12, 1 + n % 28),
        gender="Female" if n % 2 else "Male",
    )
    return evolve(person, **changes)


def teacher(n: int, **changes: object) -> Person:
    person = Person(
        key=f"staff:T{n}",
        role=Role.STAFF,
        origin=Origin("staff", "sims", f"T{n}", f"staff code T{n:02d}"),
        legal_forename=f"Teacher{n}",
        legal_surname=f"Staffname{n}",
        identifier=f"T{n:02d}",
        email_preference=EmailPreference.WORK,
        work_email=f"t{n}@example.sch.uk",
    )
    return evolve(person, **changes)


def klass(n: int, kind: GroupKind = GroupKind.CLASS, **changes: object) -> RosterClass:
    group = RosterClass(
        key=f"group:G{n}",
        name=f"7x/Ma{n}",
        kind=kind,
        origin=Origin("groups", "sims", f"G{n}", f"class 7x/Ma{n} (MIS id G{n})"),
        subject="Maths",
    )
    return evolve(group, **changes)


def member(
    group: RosterClass,
    person: Person,
    start: date | None = date(2026, 9, 1),
    end: date | None = date(2027, 7, 31),
) -> Enrolment:
    return Enrolment(
        f"membership:{group.key}:{person.key}:{start}",
        group.key,
        person.key,
        person.role,
        start,
        end,
    )


def roster(
    people: list[Person],
    classes: list[RosterClass],
    enrolments: list[Enrolment],
    sessions: tuple[Session, ...] = (YEAR,),
) -> Roster:
    return Roster(
        namespace=NAMESPACE,
        source="a hand-built roster",
        sessions=sessions,
        people=tuple(people),
        classes=tuple(classes),
        enrolments=tuple(enrolments),
    )


def small_school() -> Roster:
    """Two classes (one taught by each teacher), a registration group, four pupils."""
    pupils = [student(n) for n in range(4)]
    staff = [teacher(0), teacher(1)]
    maths, english = klass(0), klass(1, name="7x/En1", subject="English")
    form = klass(2, GroupKind.REGISTRATION, name="7A", subject=None)
    links = [member(maths, staff[0]), member(english, staff[1]), member(form, staff[0])]
    links += [member(maths, p) for p in pupils] + [member(form, p) for p in pupils[:2]]
    links += [member(english, p) for p in pupils[2:]]
    return roster([*pupils, *staff], [maths, english, form], links)
