"""1EdTech OneRoster CSV, versions 1.1 and 1.2, bulk mode.

Specifications: OneRoster 1.1 CSV Tables (v1.1.1,
https://www.imsglobal.org/oneroster-v11-final-csv-tables) and OneRoster 1.2 CSV Binding
(1.2.1, https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv). The headers are the
specifications' columns in their order; in bulk mode ``status`` and
``dateLastModified`` are blank. Dates are ``YYYY-MM-DD``; an academic session's and an
enrolment's ``endDate`` is *exclusive* (the day after the last day), as the information
model defines it. A file with no rows is not written and is ``absent`` in the manifest
(files with only a header are not permitted).

What the package holds (``docs/export-oneroster.md``): the school (one org), every
enabled academic year (schoolYear sessions), one course per subject plus one for
registration groups, every class and registration group with its academic sessions,
every student and every member of staff who teaches, their enrolments, and, when the
validation profile allows it, students' birth date and sex. 1.2 adds ``roles.csv``.
"""

from __future__ import annotations

from datetime import date, timedelta

from misbridge.export.package import Package, Table
from misbridge.export.roster import ORG_KEY, Person, Roster
from misbridge.export.rules import CEDS_GRADES, Issues, contact_email, sex_of
from misbridge.export.select import Requirements, Selection, select
from misbridge.model import GroupKind, Role

__all__ = ["HEADERS", "MANIFEST_FILES", "VERSIONS", "build_oneroster", "oneroster_username"]

VERSIONS = ("1.1", "1.2")

_STAMP = ("sourcedId", "status", "dateLastModified")
_COMMON: dict[str, tuple[str, ...]] = {
    "orgs.csv": (*_STAMP, "name", "type", "identifier", "parentSourcedId"),
    "academicSessions.csv": (
        *_STAMP, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear",
    ),
    "courses.csv": (
        *_STAMP, "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
        "subjects", "subjectCodes",
    ),
    "classes.csv": (
        *_STAMP, "title", "grades", "courseSourcedId", "classCode", "classType", "location",
        "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
    ),
    "enrollments.csv": (
        *_STAMP, "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary",
        "beginDate", "endDate",
    ),
    "demographics.csv": (
        *_STAMP, "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
        "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
        "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
        "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus",
    ),
}  # fmt: skip

#: Every data file's header, per version.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.1": {
        **_COMMON,
        "users.csv": (
            *_STAMP, "enabledUser", "orgSourcedIds", "role", "username", "userIds",
            "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password",
        ),
    },
    "1.2": {
        **_COMMON,
        "users.csv": (
            *_STAMP, "enabledUser", "username", "userIds", "givenName", "familyName",
            "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
            "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
            "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
        ),
        "roles.csv": (
            *_STAMP, "userSourcedId", "roleType", "role", "beginDate", "endDate",
            "orgSourcedId", "userProfileSourcedId",
        ),
    },
}  # fmt: skip

#: The ``file.*`` entries of the manifest, per version (every file the version defines).
MANIFEST_FILES: dict[str, tuple[str, ...]] = {
    "1.1": (
        "academicSessions", "categories", "classes", "classResources", "courses",
        "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
        "results", "users",
    ),
    "1.2": (
        "academicSessions", "categories", "classes", "classResources", "courses",
        "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
        "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
        "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
        "userResources", "users",
    ),
}  # fmt: skip


def oneroster_username(person: Person) -> tuple[str | None, str]:
    """The account's username (the school's username policy), else the contact email."""
    return person.username or contact_email(person), "MB7001"


_REQUIREMENTS = Requirements(
    username=oneroster_username,
    staff_need_a_class=True,
    class_needs_session=True,
    class_needs_course=True,
    enrolment_within_sessions=True,
)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _after(value: date | None) -> str:
    """An exclusive end date: the day after the last day."""
    return (value + timedelta(days=1)).isoformat() if value else ""


def _grades(codes: tuple[str, ...] | list[str]) -> str:
    return ",".join(CEDS_GRADES[c] for c in codes if c in CEDS_GRADES)


def build_oneroster(
    roster: Roster,
    *,
    org_name: str,
    org_identifier: str | None,
    version: str = "1.2",
    demographics: bool = True,
) -> tuple[Package, Issues]:
    """The OneRoster package of ``roster`` and the record errors met on the way."""
    if version not in VERSIONS:
        raise ValueError(f"OneRoster version {version!r}: choose one of {', '.join(VERSIONS)}")
    issues = Issues(f"OneRoster {version}")
    chosen = select(roster, _REQUIREMENTS, issues)
    headers = HEADERS[version]
    org = roster.sourced_id(ORG_KEY)
    tables = {name: Table(name, header) for name, header in headers.items()}
    tables["orgs.csv"].add(
        {"sourcedId": org, "name": org_name, "type": "school", "identifier": org_identifier}
    )
    for s in roster.sessions:
        tables["academicSessions.csv"].add(
            {
                "sourcedId": roster.sourced_id(s.key),
                "title": s.name,
                "type": "schoolYear",
                "startDate": _day(s.start),
                "endDate": _after(s.end),
                # The school year is named by the year it ends in.
                "schoolYear": str(s.end.year),
            }
        )
    _courses_and_classes(roster, chosen, tables, org)
    _users(roster, chosen, tables, org, version, issues)
    _enrolments(roster, chosen, tables, org)
    if demographics:
        _demographics(roster, chosen, tables)
    else:
        del tables["demographics.csv"]
    present = [t for t in tables.values() if t.rows]
    manifest = Table("manifest.csv", ("propertyName", "value"))
    manifest.add({"propertyName": "manifest.version", "value": "1.0"})
    manifest.add({"propertyName": "oneroster.version", "value": version})
    names = {t.name.removesuffix(".csv") for t in present}
    for entry in MANIFEST_FILES[version]:
        mode = "bulk" if entry in names else "absent"
        manifest.add({"propertyName": f"file.{entry}", "value": mode})
    if version == "1.2":
        # Receivers match imports by source; both stay the same across exports.
        manifest.add({"propertyName": "source.systemName", "value": "misbridge"})
        manifest.add({"propertyName": "source.systemCode", "value": str(roster.namespace)})
    return Package([manifest, *present]), issues


def _courses_and_classes(
    roster: Roster, chosen: Selection, tables: dict[str, Table], org: str
) -> None:
    for c in chosen.courses:
        only = c.sessions[0] if len(c.sessions) == 1 else None
        tables["courses.csv"].add(
            {
                "sourcedId": roster.sourced_id(c.key),
                "schoolYearSourcedId": roster.sourced_id(only.key) if only else None,
                "title": c.title,
                "orgSourcedId": org,
                "subjects": c.title if c.key != "course:registration" else None,
            }
        )
    for k in chosen.classes:
        homeroom = k.group.kind is GroupKind.REGISTRATION
        tables["classes.csv"].add(
            {
                "sourcedId": roster.sourced_id(k.group.key),
                "title": k.title,
                "grades": _grades(k.grades),
                "courseSourcedId": roster.sourced_id(k.course_key) if k.course_key else None,
                "classCode": k.code,
                "classType": "homeroom" if homeroom else "scheduled",
                "schoolSourcedId": org,
                "termSourcedIds": ",".join(roster.sourced_id(s.key) for s in k.sessions),
                "subjects": k.subject,
            }
        )


def _users(
    roster: Roster,
    chosen: Selection,
    tables: dict[str, Table],
    org: str,
    version: str,
    issues: Issues,
) -> None:
    for p in chosen.people:
        person = p.person
        role = "student" if person.role is Role.STUDENT else "teacher"
        grades = ""
        if person.role is Role.STUDENT and person.year_group:
            grades = _grades([person.year_group])
            if not grades:
                issues.add("MB7040", person.origin)
        row = {
            "sourcedId": roster.sourced_id(person.key),
            "enabledUser": "true",
            "username": p.username,
            "identifier": person.identifier,
            "email": p.email,
            "grades": grades,
        }
        if version == "1.1":
            # 1.1 has one name: the one the school uses (preferred, else legal).
            row |= {"orgSourcedIds": org, "role": role}
            row |= {"givenName": p.forename, "familyName": p.surname}
        else:
            row |= {
                "givenName": p.legal_forename or p.forename,
                "familyName": p.legal_surname or p.surname,
                "preferredGivenName": p.preferred_forename,
                "preferredFamilyName": p.preferred_surname,
                "primaryOrgSourcedId": org,
            }
            tables["roles.csv"].add(
                {
                    "sourcedId": roster.sourced_id(f"role:{person.key}"),
                    "userSourcedId": roster.sourced_id(person.key),
                    "roleType": "primary",
                    "role": role,
                    "orgSourcedId": org,
                }
            )
        tables["users.csv"].add(row)


def _enrolments(roster: Roster, chosen: Selection, tables: dict[str, Table], org: str) -> None:
    for e in chosen.enrolments:
        student = e.enrolment.role is Role.STUDENT
        # primary is about teachers: a student never is; a class's only teacher is; of
        # several teachers the MIS does not say which one is, so it is left blank.
        primary = "false" if student else ("true" if e.sole_teacher else None)
        tables["enrollments.csv"].add(
            {
                "sourcedId": roster.sourced_id(e.enrolment.key),
                "classSourcedId": roster.sourced_id(e.enrolment.class_key),
                "schoolSourcedId": org,
                "userSourcedId": roster.sourced_id(e.enrolment.person_key),
                "role": "student" if student else "teacher",
                "primary": primary,
                "beginDate": _day(e.start),
                "endDate": _after(e.end),
            }
        )


def _demographics(roster: Roster, chosen: Selection, tables: dict[str, Table]) -> None:
    for p in chosen.people:
        person = p.person
        if person.role is not Role.STUDENT:
            continue
        birth, sex = _day(person.date_of_birth), sex_of(person.gender)
        if birth or sex:
            tables["demographics.csv"].add(
                {"sourcedId": roster.sourced_id(person.key), "birthDate": birth, "sex": sex}
            )
