"""Which records of a roster a format can take, and what it takes them with.

Both formats go through :func:`select`: it checks each record against what the format
requires (:class:`Requirements`), reports each record it cannot take (with every
reason) and returns the rest with the values the format needs. What points at a record
that was left out (a membership of a person not exported) is skipped, not reported
again; it is counted in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from attrs import define, field, frozen

from misbridge.export.roster import Enrolment, Person, Roster, RosterClass, Session
from misbridge.export.rules import (
    Issues,
    class_sessions,
    contact_email,
    course_of,
    enrolment_dates,
    line_safe,
    nc_order,
    teachers,
)
from misbridge.model import GroupKind, Role

__all__ = [
    "Course",
    "ExportedClass",
    "ExportedEnrolment",
    "ExportedPerson",
    "Requirements",
    "Selection",
    "UsernameRule",
    "select",
]

#: A person's username in a format, and the error code to report when there is none.
UsernameRule = Callable[[Person], tuple[str | None, str]]


@frozen
class Requirements:
    """What a format requires beyond names and a username (which every format needs)."""

    username: UsernameRule
    staff_need_a_class: bool  # OneRoster: no role for staff who teach nothing
    class_needs_session: bool  # OneRoster: termSourcedIds is required
    class_needs_course: bool  # OneRoster: courseSourcedId is required
    enrolment_within_sessions: bool  # OneRoster: enrolment dates lie within the class's


@frozen
class ExportedPerson:
    person: Person
    forename: str  # preferred, else legal
    surname: str
    legal_forename: str | None
    legal_surname: str | None
    preferred_forename: str | None
    preferred_surname: str | None
    username: str
    email: str | None
    role: str  # "student", "teacher", or "staff" (staff who teach no class)


@frozen
class Course:
    key: str
    title: str
    sessions: tuple[Session, ...]  # the sessions all of its classes share exactly


@frozen
class ExportedClass:
    group: RosterClass
    title: str
    code: str | None
    subject: str | None
    sessions: tuple[Session, ...]
    course_key: str | None
    grades: tuple[str, ...]  # NC year codes of its exported students, in NC order


@frozen
class ExportedEnrolment:
    enrolment: Enrolment
    start: date | None
    end: date | None  # inclusive
    sole_teacher: bool  # the only exported member of staff of its class


@define
class Selection:
    people: list[ExportedPerson] = field(factory=list)
    classes: list[ExportedClass] = field(factory=list)
    courses: list[Course] = field(factory=list)
    enrolments: list[ExportedEnrolment] = field(factory=list)
    skipped: int = 0  # enrolments of people or classes not exported, or outside its years


def select(roster: Roster, need: Requirements, issues: Issues) -> Selection:
    """The records of ``roster`` the format takes; the others are reported."""
    chosen = Selection()
    teaching = teachers(roster)
    people: dict[str, ExportedPerson] = {}
    for person in roster.people:
        exported = _person(person, need, teaching, issues)
        if exported is not None:
            people[person.key] = exported
            chosen.people.append(exported)
    members: dict[str, list[Enrolment]] = {}
    for e in roster.enrolments:
        members.setdefault(e.class_key, []).append(e)
    sessions = class_sessions(roster)
    classes: dict[str, ExportedClass] = {}
    courses: dict[str, tuple[str, list[tuple[Session, ...]]]] = {}
    for group in roster.classes:
        grades = {
            people[e.person_key].person.year_group or ""
            for e in members.get(group.key, ())
            if e.role is Role.STUDENT and e.person_key in people
        }
        grades.discard("")
        exported_class = _class(group, sessions.get(group.key, ()), grades, need, issues)
        if exported_class is None:
            continue
        classes[group.key] = exported_class
        chosen.classes.append(exported_class)
        course = course_of(group)
        if course is not None:
            title = line_safe(course[1], issues, group.origin, "subject", "subject") or ""
            courses.setdefault(course[0], (title, []))[1].append(exported_class.sessions)
    for key, (title, spans) in courses.items():
        common = spans[0] if all(s == spans[0] for s in spans) else ()
        chosen.courses.append(Course(key=key, title=title, sessions=common))
    for group_key, enrolments in members.items():
        target = classes.get(group_key)
        staff = {
            e.person_key for e in enrolments if e.role is Role.STAFF and e.person_key in people
        }
        for e in enrolments:
            dates: tuple[date | None, date | None] | None = (e.start, e.end)
            if target is not None and need.enrolment_within_sessions:
                dates = enrolment_dates(e, target.sessions)
            if target is None or e.person_key not in people or dates is None:
                chosen.skipped += 1
                continue
            sole = e.role is Role.STAFF and len(staff) == 1
            chosen.enrolments.append(ExportedEnrolment(e, dates[0], dates[1], sole))
    return chosen


def _person(
    person: Person, need: Requirements, teaching: set[str], issues: Issues
) -> ExportedPerson | None:
    origin = person.origin
    forename = line_safe(person.forename, issues, origin, "forename", "forename")
    surname = line_safe(person.surname, issues, origin, "surname", "surname")
    ok = True
    for value, what in ((forename, "forename"), (surname, "surname")):
        if not (value and value.strip()):
            issues.add("MB7003", origin, field=what, what=what)
            ok = False
    username, code = need.username(person)
    username = line_safe(username, issues, origin, "username", "username")
    if not (username and username.strip()):
        issues.add(code, origin)
        ok = False
    role = "student"
    if person.role is Role.STAFF:
        role = "teacher" if person.key in teaching else "staff"
        if role == "staff" and need.staff_need_a_class:
            issues.add("MB7010", origin)
            ok = False
    if not ok or forename is None or surname is None or username is None:
        return None

    def safe(value: str | None, name: str, what: str) -> str | None:
        return line_safe(value, issues, origin, name, what)

    return ExportedPerson(
        person=person,
        forename=forename,
        surname=surname,
        # Legal and preferred names are reported under one field each (once).
        legal_forename=safe(person.legal_forename, "forename", "forename"),
        legal_surname=safe(person.legal_surname, "surname", "surname"),
        preferred_forename=safe(person.preferred_forename, "forename", "forename"),
        preferred_surname=safe(person.preferred_surname, "surname", "surname"),
        username=username,
        email=safe(contact_email(person), "email", "email address"),
        role=role,
    )


def _class(
    group: RosterClass,
    sessions: tuple[Session, ...],
    grades: set[str],
    need: Requirements,
    issues: Issues,
) -> ExportedClass | None:
    origin = group.origin
    title = line_safe(group.name, issues, origin, "name", "name")
    ok = True
    if not (title and title.strip()):
        issues.add("MB7003", origin, field="name", what="name")
        ok = False
    if need.class_needs_session and not sessions:
        issues.add("MB7020", origin)
        ok = False
    course = course_of(group)
    if course is None and need.class_needs_course:
        issues.add("MB7021", origin)
        ok = False
    if not ok or title is None:
        return None
    subject = None
    if group.kind is GroupKind.CLASS:
        subject = line_safe(group.subject, issues, origin, "subject", "subject")
    return ExportedClass(
        group=group,
        title=title,
        code=line_safe(group.code, issues, origin, "code", "code"),
        subject=subject,
        sessions=sessions,
        course_key=course[0] if course else None,
        grades=tuple(sorted(grades, key=nc_order)),
    )
