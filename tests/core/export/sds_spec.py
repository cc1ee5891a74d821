"""A School Data Sync v2.1 CSV validator, written from Microsoft's documentation.

Sources: "SDS V2.1 CSV File Format"
(https://learn.microsoft.com/schooldatasync/sds-v2.1-csv-file-format), "Default List of
Values" (https://learn.microsoft.com/schooldatasync/default-list-of-values) and the
sample files in OfficeDev/O365-EDU-Tools ("CSV Samples/SDS v2.1"): exact file names,
case-sensitive headers, required files and fields, UTF-8, RFC 4180, no line breaks in
data, enumerations (matched case-insensitively), ISO 8601 dates, true/false booleans,
and the references between files.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date

Tables = dict[str, list[dict[str, str]]]
Report = Callable[[str, str], None]

COLUMNS = {
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
    "userFlags.csv": ("userSourcedId", "flag"),
    "relationships.csv": ("userSourcedId", "relationshipUserSourcedId", "relationshipRole"),
}  # fmt: skip

REQUIRED = {
    "orgs.csv": ("sourcedId", "name", "type"),
    # givenName and familyName are required when SDS creates the user; an export cannot
    # know whether it will, so they are required here.
    "users.csv": ("sourcedId", "username", "givenName", "familyName"),
    "roles.csv": ("userSourcedId", "orgSourcedId", "role"),
    "classes.csv": ("sourcedId", "orgSourcedId", "title"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "academicSessions.csv": ("sourcedId", "title", "type", "schoolYear", "startDate", "endDate"),
    "courses.csv": ("sourcedId", "orgSourcedId", "title"),
    "demographics.csv": ("userSourcedId",),
}

ORG_TYPES = {
    "school", "ministryofeducation", "localauthority", "department", "university", "region",
    "district", "college", "division", "local", "campus", "province", "state",
    "adulteducation", "researchcenter", "national", "municipality", "program",
    "departmentofeducation", "academictrust",
}  # fmt: skip
ROLES = {
    "principal", "chair", "professor", "researcher", "adjunct", "affiliate",
    "occupationaltherapist", "physicaltherapist", "speechtherapist", "visiontherapist",
    "paraprofessional", "specialservices", "advisor", "proctor", "nurse", "officestaff",
    "lecturer", "itadmin", "administrator", "teacher", "faculty", "staff", "teacherassistant",
    "aide", "instructor", "substitute", "coach", "alumni", "student", "other",
}  # fmt: skip
SESSION_TYPES = {"term", "gradingperiod", "schoolyear", "semester"}
GRADES = {
    "it", "pr", "pk", "tk", "kg", *(str(n) for n in range(1, 14)), "ps", "ps1", "ps2", "ps3",
    "ps4", "ps5", "ug", "other",
}  # fmt: skip
SEX = {"male", "female", "other", "unspecified"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")] if text else []


def validate(package: bytes) -> list[str]:
    """Every problem with the SDS v2.1 zip ``package`` (empty: valid)."""
    problems: list[str] = []

    def fail(where: str, message: str) -> None:
        problems.append(f"{where}: {message}")

    try:
        archive = zipfile.ZipFile(io.BytesIO(package))
    except zipfile.BadZipFile:
        return ["the package is not a zip file"]
    names = set(archive.namelist())
    for name in names - set(COLUMNS):
        fail(name, "not an SDS v2.1 file name (names are exact and case-sensitive)")
    for name in ("orgs.csv", "users.csv", "roles.csv"):
        if name not in names:
            fail(name, "required file is missing")
    if ("classes.csv" in names) != ("enrollments.csv" in names):
        fail("classes.csv", "classes.csv and enrollments.csv come together")
    tables: dict[str, list[dict[str, str]]] = {}
    for name in sorted(names & set(COLUMNS)):
        try:
            text = archive.read(name).decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            fail(name, "not UTF-8")
            continue
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            fail(name, "no header row")
            continue
        header = rows[0]
        unknown = [h for h in header if h not in COLUMNS[name]]
        if unknown:
            fail(name, f"unknown (or wrongly cased) columns {unknown}")
        if len(set(header)) != len(header):
            fail(name, "duplicate columns")
        for column in REQUIRED.get(name, ()):
            if column not in header:
                fail(name, f"required column {column} is missing")
        records = []
        for n, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                fail(f"{name} row {n}", "wrong number of fields")
                continue
            if any(c in value for value in row for c in "\r\n"):
                fail(f"{name} row {n}", "line breaks are not accepted in data")
            record = dict(zip(header, row, strict=True))
            for column in REQUIRED.get(name, ()):
                if not record.get(column, "").strip():
                    fail(f"{name} row {n}", f"{column} is required")
            records.append(record)
        tables[name] = records
    _values(tables, fail)
    _references(tables, fail)
    return problems


def _values(tables: Tables, report: Report) -> None:
    for name in ("orgs.csv", "users.csv", "classes.csv", "academicSessions.csv", "courses.csv"):
        seen: set[str] = set()
        for n, r in enumerate(tables.get(name, []), 2):
            if r["sourcedId"] in seen:
                report(f"{name} row {n}", f"sourcedId {r['sourcedId']} is not unique")
            seen.add(r["sourcedId"])
    checks = {
        ("orgs.csv", "type"): ORG_TYPES,
        ("roles.csv", "role"): ROLES,
        ("enrollments.csv", "role"): ROLES,
        ("academicSessions.csv", "type"): SESSION_TYPES,
        ("roles.csv", "grade"): GRADES,
        ("courses.csv", "grade"): GRADES,
        ("demographics.csv", "sex"): SEX,
        ("roles.csv", "isPrimary"): {"true", "false"},
    }
    for (name, column), allowed in checks.items():
        for n, r in enumerate(tables.get(name, []), 2):
            value = r.get(column, "")
            if value and value.lower() not in allowed:  # enums match case-insensitively
                report(f"{name} row {n}", f"{column} {value!r} is not an SDS value")
    dates = {
        "academicSessions.csv": ("startDate", "endDate"),
        "roles.csv": ("roleStartDate", "roleEndDate"),
        "demographics.csv": ("birthDate",),
    }
    for name, columns in dates.items():
        for n, r in enumerate(tables.get(name, []), 2):
            for column in columns:
                if r.get(column) and not _is_date(r[column]):
                    report(f"{name} row {n}", f"{column} {r[column]!r} is not an ISO 8601 date")
    for n, r in enumerate(tables.get("academicSessions.csv", []), 2):
        if not re.fullmatch(r"\d{4}", r["schoolYear"]):
            report(f"academicSessions.csv row {n}", "schoolYear must be a year")
        if _is_date(r["startDate"]) and _is_date(r["endDate"]) and r["endDate"] < r["startDate"]:
            report(f"academicSessions.csv row {n}", "the session ends before it starts")
    for n, r in enumerate(tables.get("users.csv", []), 2):
        for column in ("email", "username"):
            if column == "email" and not r.get("email"):
                continue
            if not _EMAIL.fullmatch(r.get(column, "")):
                report(f"users.csv row {n}", f"{column} {r.get(column)!r} is not an address")
    pairs: set[tuple[str, str, str]] = set()
    for n, r in enumerate(tables.get("enrollments.csv", []), 2):
        key = (r["classSourcedId"], r["userSourcedId"], r["role"])
        if key in pairs:
            report(f"enrollments.csv row {n}", "the same enrolment twice")
        pairs.add(key)


def _references(tables: Tables, report: Report) -> None:

    def ids(name: str, column: str = "sourcedId") -> set[str]:
        return {r[column] for r in tables.get(name, [])}

    orgs, users, classes = ids("orgs.csv"), ids("users.csv"), ids("classes.csv")
    sessions, courses = ids("academicSessions.csv"), ids("courses.csv")
    refs = [
        ("orgs.csv", "parentSourcedId", orgs, False),
        ("roles.csv", "userSourcedId", users, False),
        ("roles.csv", "orgSourcedId", orgs, False),
        ("roles.csv", "sessionSourcedId", sessions, False),
        ("classes.csv", "orgSourcedId", orgs, False),
        ("classes.csv", "sessionSourcedIds", sessions, True),
        ("classes.csv", "courseSourcedId", courses, False),
        ("enrollments.csv", "classSourcedId", classes, False),
        ("enrollments.csv", "userSourcedId", users, False),
        ("courses.csv", "orgSourcedId", orgs, False),
        ("courses.csv", "schoolYearSourcedId", sessions, False),
        ("demographics.csv", "userSourcedId", users, False),
    ]
    for name, column, known, many in refs:
        for n, r in enumerate(tables.get(name, []), 2):
            for value in _list(r.get(column, "")) if many else [r.get(column, "")]:
                if value and value not in known:
                    report(f"{name} row {n}", f"{column} {value} is not in the files")
    with_role = ids("roles.csv", "userSourcedId")
    for n, r in enumerate(tables.get("users.csv", []), 2):
        if r["sourcedId"] not in with_role:
            report(f"users.csv row {n}", "a user without a role in roles.csv")
