"""A OneRoster CSV package validator, written from the specifications, not from the exporter.

Sources: OneRoster 1.1 CSV Tables (v1.1.1, https://www.imsglobal.org/oneroster-v11-final-csv-tables)
and OneRoster 1.2 CSV Binding (1.2.1, https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv):
file names, exact header rows in order, required columns, enumerations, data types, the
manifest, bulk-mode rules (``status`` and ``dateLastModified`` blank, no file without
data rows, every referenced object present) and the information model's date rules
(``endDate`` exclusive; an enrolment within its class's academic sessions).

:func:`validate` returns every problem found as a line of text; an empty list means valid.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date

STAMP = ("sourcedId", "status", "dateLastModified")

COMMON = {
    "academicSessions": (
        *STAMP, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear",
    ),
    "classes": (
        *STAMP, "title", "grades", "courseSourcedId", "classCode", "classType", "location",
        "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
    ),
    "courses": (
        *STAMP, "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
        "subjects", "subjectCodes",
    ),
    "demographics": (
        *STAMP, "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
        "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
        "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode",
        "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus",
    ),
    "enrollments": (
        *STAMP, "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary",
        "beginDate", "endDate",
    ),
    "orgs": (*STAMP, "name", "type", "identifier", "parentSourcedId"),
}  # fmt: skip

HEADERS = {
    "1.1": {
        **COMMON,
        "users": (
            *STAMP, "enabledUser", "orgSourcedIds", "role", "username", "userIds", "givenName",
            "familyName", "middleName", "identifier", "email", "sms", "phone",
            "agentSourcedIds", "grades", "password",
        ),
    },
    "1.2": {
        **COMMON,
        "users": (
            *STAMP, "enabledUser", "username", "userIds", "givenName", "familyName",
            "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
            "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
            "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
        ),
        "roles": (
            *STAMP, "userSourcedId", "roleType", "role", "beginDate", "endDate",
            "orgSourcedId", "userProfileSourcedId",
        ),
        "userProfiles": (
            *STAMP, "userSourcedId", "profileType", "vendorId", "applicationId", "description",
            "credentialType", "username", "password",
        ),
    },
}  # fmt: skip

#: Every file.* entry the manifest must list.
MANIFEST_FILES = {
    "1.1": {
        "academicSessions", "categories", "classes", "classResources", "courses",
        "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
        "results", "users",
    },
    "1.2": {
        "academicSessions", "categories", "classes", "classResources", "courses",
        "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
        "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
        "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
        "userResources", "users",
    },
}  # fmt: skip

REQUIRED = {
    "orgs": ("sourcedId", "name", "type"),
    "academicSessions": ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    "courses": ("sourcedId", "title", "orgSourcedId"),
    "classes": (
        "sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId",
        "termSourcedIds",
    ),
    "enrollments": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "demographics": ("sourcedId",),
    "roles": ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "userProfiles": (
        "sourcedId", "userSourcedId", "profileType", "vendorId", "credentialType", "username",
    ),
}  # fmt: skip
USERS_REQUIRED = {
    "1.1": ("sourcedId", "enabledUser", "orgSourcedIds", "role", "username", "givenName",
            "familyName"),
    "1.2": ("sourcedId", "enabledUser", "username", "givenName", "familyName"),
}  # fmt: skip

BOOLEAN = {"true", "false"}
ENUMS = {
    ("orgs", "type"): {"department", "school", "district", "local", "state", "national"},
    ("academicSessions", "type"): {"gradingPeriod", "semester", "schoolYear", "term"},
    ("classes", "classType"): {"homeroom", "scheduled"},
    ("users", "enabledUser"): BOOLEAN,
    ("enrollments", "role"): {"administrator", "proctor", "student", "teacher"},
    ("roles", "roleType"): {"primary", "secondary"},
    ("roles", "role"): {
        "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal",
        "proctor", "relative", "siteAdministrator", "student", "systemAdministrator", "teacher",
    },
}  # fmt: skip
USER_ROLES_11 = {
    "administrator", "aide", "guardian", "parent", "proxy", "relative", "student", "teacher",
}  # fmt: skip
SEX = {"1.1": {"male", "female"}, "1.2": {"male", "female", "unspecified", "other"}}
RACE_FLAGS = (
    "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)  # fmt: skip
#: The default grade vocabulary the specifications name (CEDS entry grade levels).
CEDS = {"IT", "PR", "PK", "TK", "KG", *(f"{n:02d}" for n in range(1, 14)), "PS", "UG", "Other"}
DATES = {
    "academicSessions": ("startDate", "endDate"),
    "enrollments": ("beginDate", "endDate"),
    "roles": ("beginDate", "endDate"),
    "demographics": ("birthDate",),
}
# A typical receiver's rule for identifiers (unique, at most 100 of these characters).
SOURCED_ID = re.compile(r"[A-Za-z0-9\-_.]{1,100}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")] if text else []


class _Checker:
    def __init__(self, version: str) -> None:
        self.version = version
        self.problems: list[str] = []
        self.headers: dict[str, tuple[str, ...]] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def read(self, name: str, data: bytes) -> list[dict[str, str]] | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(name, "not UTF-8")
            return None
        text = text.removeprefix("\ufeff")  # importers must tolerate a BOM
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            self.fail(name, "no header row")
            return None
        header = rows[0]
        if len(set(header)) != len(header):
            self.fail(name, "duplicate header names")
        records = []
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                self.fail(name, f"row {number} has {len(row)} fields, the header {len(header)}")
                continue
            for value in row:
                if "\r" in value or "\n" in value:
                    self.fail(name, f"row {number} has a line break inside a field")
            records.append(dict(zip(header, row, strict=True)))
        self.headers[name] = tuple(header)
        return records


def validate(package: bytes, version: str) -> list[str]:
    """Every problem with the OneRoster ``version`` zip ``package`` (empty: valid)."""
    check = _Checker(version)
    try:
        archive = zipfile.ZipFile(io.BytesIO(package))
    except zipfile.BadZipFile:
        return ["the package is not a zip file"]
    names = archive.namelist()
    if "manifest.csv" not in names:
        return ["manifest.csv is missing: it is required"]
    manifest_rows = check.read("manifest.csv", archive.read("manifest.csv")) or []
    if check.headers.get("manifest.csv") != ("propertyName", "value"):
        check.fail("manifest.csv", "header must be propertyName,value")
    manifest = {r.get("propertyName", ""): r.get("value", "") for r in manifest_rows}
    if manifest.get("manifest.version") != "1.0":
        check.fail("manifest.csv", "manifest.version must be 1.0")
    if manifest.get("oneroster.version") != version:
        check.fail("manifest.csv", f"oneroster.version must be {version}")
    tables: dict[str, list[dict[str, str]]] = {}
    for entry in sorted(MANIFEST_FILES[version]):
        mode = manifest.get(f"file.{entry}")
        present = f"{entry}.csv" in names
        if mode not in ("bulk", "delta", "absent"):
            check.fail("manifest.csv", f"file.{entry} must be bulk, delta or absent, not {mode!r}")
        elif mode == "absent" and present:
            check.fail("manifest.csv", f"file.{entry} is absent but {entry}.csv is in the zip")
        elif mode != "absent" and not present:
            check.fail("manifest.csv", f"file.{entry} is {mode} but {entry}.csv is missing")
    known = {f"{e}.csv" for e in MANIFEST_FILES[version]} | {"manifest.csv"}
    for name in names:
        if name not in known:
            check.fail(name, "not a OneRoster file (or not at the zip's top level)")
    for entry, header in HEADERS[version].items():
        name = f"{entry}.csv"
        if name not in names:
            continue
        rows = check.read(name, archive.read(name))
        if rows is None:
            continue
        if check.headers[name] != header:
            check.fail(name, f"header must be exactly {','.join(header)}")
            continue
        if not rows:
            check.fail(name, "a file must have data rows (otherwise mark it absent)")
        tables[entry] = rows
        _rows(check, entry, rows, bulk=manifest.get(f"file.{entry}") == "bulk")
    _references(check, tables)
    return check.problems


def _rows(check: _Checker, entry: str, rows: list[dict[str, str]], *, bulk: bool) -> None:
    name, version = f"{entry}.csv", check.version
    required = USERS_REQUIRED[version] if entry == "users" else REQUIRED.get(entry, ())
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        where = f"{name} row {n}"
        for column in required:
            if not row[column].strip():
                check.fail(where, f"{column} is required")
        sid = row["sourcedId"]
        if sid in seen:
            check.fail(where, f"sourcedId {sid} is not unique")
        seen.add(sid)
        if sid and not SOURCED_ID.fullmatch(sid):
            check.fail(where, f"sourcedId {sid!r} has characters receivers refuse")
        if bulk and (row["status"] or row["dateLastModified"]):
            check.fail(where, "status and dateLastModified must be blank in bulk mode")
        for (file, column), allowed in ENUMS.items():
            if file == entry and row[column] and row[column] not in allowed:
                check.fail(where, f"{column} {row[column]!r} is not one of {sorted(allowed)}")
        for column in DATES.get(entry, ()):
            if row[column] and _date(row[column]) is None:
                check.fail(where, f"{column} {row[column]!r} is not a date YYYY-MM-DD")
        for grade in _list(row.get("grades", "")):
            if grade not in CEDS:
                check.fail(where, f"grade {grade!r} is not in the CEDS vocabulary")
        _entry_rules(check, entry, row, where)


def _entry_rules(check: _Checker, entry: str, row: dict[str, str], where: str) -> None:
    if entry == "academicSessions":
        start, end = _date(row["startDate"]), _date(row["endDate"])
        if start and end and not start < end:
            check.fail(where, "endDate (exclusive) must come after startDate")
        if not re.fullmatch(r"\d{4}", row["schoolYear"]):
            check.fail(where, f"schoolYear {row['schoolYear']!r} is not a year YYYY")
        elif end and int(row["schoolYear"]) not in (end.year, (end.year - 1)):
            check.fail(where, "schoolYear must be the year the school year ends in")
    if entry == "users" and check.version == "1.1" and row["role"] not in USER_ROLES_11:
        check.fail(where, f"role {row['role']!r} is not a OneRoster 1.1 user role")
    if entry == "enrollments":
        if row["primary"] and row["primary"] not in BOOLEAN:
            check.fail(where, "primary must be true or false")
        if row["role"] == "student" and row["primary"] == "true":
            check.fail(where, "a student cannot be the primary teacher")
        begin, end = _date(row["beginDate"]), _date(row["endDate"])
        if begin and end and not begin < end:
            check.fail(where, "endDate (exclusive) must come after beginDate")
    if entry == "demographics":
        if row["sex"] and row["sex"] not in SEX[check.version]:
            check.fail(where, f"sex {row['sex']!r} is not one of {sorted(SEX[check.version])}")
        for flag in RACE_FLAGS:
            if row[flag] and row[flag] not in BOOLEAN:
                check.fail(where, f"{flag} must be true or false")


def _ids(tables: dict[str, list[dict[str, str]]], entry: str, **where: str) -> set[str]:
    return {
        r["sourcedId"]
        for r in tables.get(entry, [])
        if all(r.get(k) == v for k, v in where.items())
    }


def _must(check: _Checker, where: str, ids: Iterable[str], known: set[str], what: str) -> None:
    for sid in ids:
        if sid and sid not in known:
            check.fail(where, f"{what} {sid} is not in the package")


def _references(check: _Checker, tables: dict[str, list[dict[str, str]]]) -> None:
    """Bulk packages must be semantically consistent: every reference resolves."""
    orgs, schools = _ids(tables, "orgs"), _ids(tables, "orgs", type="school")
    sessions = {r["sourcedId"]: r for r in tables.get("academicSessions", [])}
    years = _ids(tables, "academicSessions", type="schoolYear")
    courses, users = _ids(tables, "courses"), _ids(tables, "users")
    classes = {r["sourcedId"]: r for r in tables.get("classes", [])}
    for n, r in enumerate(tables.get("orgs", []), 2):
        _must(check, f"orgs.csv row {n}", [r["parentSourcedId"]], orgs, "parent org")
    for n, r in enumerate(sessions.values(), 2):
        _must(
            check,
            f"academicSessions.csv row {n}",
            [r["parentSourcedId"]],
            set(sessions),
            "parent session",
        )
    for n, r in enumerate(tables.get("courses", []), 2):
        where = f"courses.csv row {n}"
        _must(check, where, [r["orgSourcedId"]], orgs, "org")
        _must(check, where, [r["schoolYearSourcedId"]], years, "schoolYear session")
    for n, r in enumerate(classes.values(), 2):
        where = f"classes.csv row {n}"
        _must(check, where, [r["courseSourcedId"]], courses, "course")
        _must(check, where, [r["schoolSourcedId"]], schools, "school")
        _must(check, where, _list(r["termSourcedIds"]), set(sessions), "term")
    for n, r in enumerate(tables.get("users", []), 2):
        where = f"users.csv row {n}"
        _must(check, where, _list(r.get("orgSourcedIds", "")), orgs, "org")
        _must(check, where, [r.get("primaryOrgSourcedId", "")], orgs, "primary org")
        _must(check, where, _list(r["agentSourcedIds"]), users, "agent")
    roles: dict[str, set[str]] = {}
    for n, r in enumerate(tables.get("roles", []), 2):
        where = f"roles.csv row {n}"
        _must(check, where, [r["userSourcedId"]], users, "user")
        _must(check, where, [r["orgSourcedId"]], orgs, "org")
        roles.setdefault(r["userSourcedId"], set()).add(r["roleType"])
    if check.version == "1.2" and "users" in tables:
        for n, r in enumerate(tables["users"], 2):
            if "primary" not in roles.get(r["sourcedId"], set()):
                check.fail(f"users.csv row {n}", "every 1.2 user needs a primary role in roles.csv")
    for n, r in enumerate(tables.get("enrollments", []), 2):
        where = f"enrollments.csv row {n}"
        _must(check, where, [r["userSourcedId"]], users, "user")
        _must(check, where, [r["schoolSourcedId"]], schools, "school")
        klass = classes.get(r["classSourcedId"])
        if klass is None:
            check.fail(where, f"class {r['classSourcedId']} is not in the package")
            continue
        if klass["schoolSourcedId"] != r["schoolSourcedId"]:
            check.fail(where, "schoolSourcedId differs from its class's school")
        terms = [sessions[t] for t in _list(klass["termSourcedIds"]) if t in sessions]
        first = min((_date(t["startDate"]) or date.max for t in terms), default=None)
        last = max((_date(t["endDate"]) or date.min for t in terms), default=None)
        begin, end = _date(r["beginDate"]), _date(r["endDate"])
        if (first and begin and begin < first) or (last and end and end > last):
            check.fail(where, "the enrolment's dates lie outside its class's academic sessions")
    for n, r in enumerate(tables.get("demographics", []), 2):
        _must(check, f"demographics.csv row {n}", [r["sourcedId"]], users, "user")
