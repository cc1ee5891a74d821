"""Microsoft School Data Sync (SDS) v2.1 CSV.

Specification: "SDS V2.1 CSV File Format"
(https://learn.microsoft.com/schooldatasync/sds-v2.1-csv-file-format), its values
(https://learn.microsoft.com/schooldatasync/default-list-of-values) and Microsoft's
sample files (OfficeDev/O365-EDU-Tools, "CSV Samples/SDS v2.1"). The headers are the
samples' columns in their order.

SDS takes bulk uploads only and marks inactive whatever a later upload leaves out, and
it expects the same set of files every time: so every file is always written, with its
header even when it has no rows (``demographics.csv`` follows the validation profile:
keep the same profile for every upload). Dates are ISO 8601 (``YYYY-MM-DD``), an
academic session's end date is its last day, booleans are ``true``/``false``.

A user's ``username`` is their work (school) email address, the sign-in name Microsoft
365 knows them by; a person without one is reported (MB7002), never given an invented
name. Staff who teach no class are exported with the ``staff`` role.
"""

from __future__ import annotations

from misbridge.export.package import Package, Table
from misbridge.export.roster import ORG_KEY, Person, Roster
from misbridge.export.rules import Issues, sex_of
from misbridge.export.select import Requirements, select
from misbridge.model import Role

__all__ = ["HEADERS", "SDS_GRADES", "build_sds", "sds_username"]

HEADERS: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type", "parentSourcedId"),
    "users.csv": (
        "sourcedId", "username", "givenName", "familyName", "password",
        "activeDirectoryMatchId", "email", "phone", "sms",
    ),
    "roles.csv": (
        "userSourcedId", "orgSourcedId", "role", "sessionSourcedId", "grade", "isPrimary",
        "roleStartDate", "roleEndDate",
    ),
    "classes.csv": ("sourcedId", "orgSourcedId", "title", "sessionSourcedIds", "courseSourcedId"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "academicSessions.csv": ("sourcedId", "title", "type", "schoolYear", "startDate", "endDate"),
    "courses.csv": (
        "sourcedId", "orgSourcedId", "title", "code", "schoolYearSourcedId", "subject", "grade",
    ),
    "demographics.csv": (
        "userSourcedId", "sex", "birthDate", "birthCity", "birthState", "birthCountry",
        "ethnicityCodes", "raceCodes",
    ),
}  # fmt: skip

#: NC year -> SDS grade value, by position as for OneRoster; SDS writes grades without a
#: leading zero ("10" in Microsoft's samples).
SDS_GRADES = {"N1": "PR", "N2": "PK", "R": "KG", **{str(n): str(n) for n in range(1, 14)}}


def sds_username(person: Person) -> tuple[str | None, str]:
    """The work (school) email address: Microsoft 365's sign-in name."""
    return person.work_email, "MB7002"


_REQUIREMENTS = Requirements(
    username=sds_username,
    staff_need_a_class=False,
    class_needs_session=False,
    class_needs_course=False,
    enrolment_within_sessions=False,
)


def build_sds(
    roster: Roster, *, org_name: str, demographics: bool = True
) -> tuple[Package, Issues]:
    """The SDS v2.1 files of ``roster`` and the record errors met on the way."""
    issues = Issues("SDS v2.1")
    chosen = select(roster, _REQUIREMENTS, issues)
    tables = {name: Table(name, header) for name, header in HEADERS.items()}
    org = roster.sourced_id(ORG_KEY)
    tables["orgs.csv"].add({"sourcedId": org, "name": org_name, "type": "school"})
    for p in chosen.people:
        person = p.person
        user = roster.sourced_id(person.key)
        tables["users.csv"].add(
            {
                "sourcedId": user,
                "username": p.username,
                "givenName": p.forename,
                "familyName": p.surname,
                "email": p.username,
            }
        )
        grade = None
        if person.role is Role.STUDENT and person.year_group:
            grade = SDS_GRADES.get(person.year_group)
            if grade is None:
                issues.add("MB7040", person.origin)
        tables["roles.csv"].add(
            {
                "userSourcedId": user,
                "orgSourcedId": org,
                "role": p.role,
                "grade": grade,
                "isPrimary": "true",
            }
        )
    for s in roster.sessions:
        tables["academicSessions.csv"].add(
            {
                "sourcedId": roster.sourced_id(s.key),
                "title": s.name,
                "type": "schoolYear",
                "schoolYear": str(s.end.year),
                "startDate": s.start.isoformat(),
                "endDate": s.end.isoformat(),
            }
        )
    for c in chosen.courses:
        only = c.sessions[0] if len(c.sessions) == 1 else None
        tables["courses.csv"].add(
            {
                "sourcedId": roster.sourced_id(c.key),
                "orgSourcedId": org,
                "title": c.title,
                "schoolYearSourcedId": roster.sourced_id(only.key) if only else None,
            }
        )
    for k in chosen.classes:
        tables["classes.csv"].add(
            {
                "sourcedId": roster.sourced_id(k.group.key),
                "orgSourcedId": org,
                "title": k.title,
                "sessionSourcedIds": ",".join(roster.sourced_id(s.key) for s in k.sessions),
                "courseSourcedId": roster.sourced_id(k.course_key) if k.course_key else None,
            }
        )
    # SDS enrolments carry no dates: a pupil who left a class and came back (two dated
    # memberships) is in it once.
    enrolled: set[tuple[str, str, str]] = set()
    for e in chosen.enrolments:
        row = (
            roster.sourced_id(e.enrolment.class_key),
            roster.sourced_id(e.enrolment.person_key),
            "student" if e.enrolment.role is Role.STUDENT else "teacher",
        )
        if row not in enrolled:
            enrolled.add(row)
            tables["enrollments.csv"].add(
                {"classSourcedId": row[0], "userSourcedId": row[1], "role": row[2]}
            )
    if demographics:
        for p in chosen.people:
            person = p.person
            birth, sex = person.date_of_birth, sex_of(person.gender)
            if person.role is Role.STUDENT and (birth or sex):
                tables["demographics.csv"].add(
                    {
                        "userSourcedId": roster.sourced_id(person.key),
                        "sex": sex,
                        "birthDate": birth.isoformat() if birth else None,
                    }
                )
    else:
        del tables["demographics.csv"]
    return Package(list(tables.values())), issues
