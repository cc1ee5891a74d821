"""The validators can fail: each breach of the specifications in a package that was
valid is found and named."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

import pytest

from misbridge.export import build_oneroster, build_sds
from tests.core.export import oneroster_spec, sds_spec
from tests.core.export.schools import ORG, small_school

Files = dict[str, list[list[str]]]


def _files(version: str) -> Files:
    if version == "sds":
        package, _ = build_sds(small_school(), org_name=ORG["org_name"])
    else:
        package, _ = build_oneroster(small_school(), version=version, **ORG)
    return {t.name: [list(t.header), *map(list, t.rows)] for t in package.tables}


def _zip(files: Files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, table in files.items():
            text = io.StringIO()
            csv.writer(text, lineterminator="\r\n").writerows(table)
            archive.writestr(name, text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def _validate(version: str, files: Files) -> list[str]:
    if version == "sds":
        return sds_spec.validate(_zip(files))
    return oneroster_spec.validate(_zip(files), version)


def _set(files: Files, name: str, column: str, value: str, row: int = 1) -> None:
    files[name][row][files[name][0].index(column)] = value


@pytest.mark.parametrize("version", ["1.2", "1.1", "sds"])
def test_the_unbroken_package_is_valid(version: str) -> None:
    assert _validate(version, _files(version)) == []


Breach = Callable[[Files], None]

ONEROSTER_BREACHES: dict[str, tuple[Breach, str]] = {
    "column missing": (
        lambda f: [r.pop() for r in f["users.csv"]] and None,
        "header must be exactly",
    ),
    "column renamed": (
        lambda f: _set(f, "orgs.csv", "name", "Name", row=0),
        "header must be exactly",
    ),
    "required value": (lambda f: _set(f, "users.csv", "givenName", ""), "givenName is required"),
    "enumeration": (
        lambda f: _set(f, "classes.csv", "classType", "lecture"),
        "classType 'lecture'",
    ),
    "bulk status": (lambda f: _set(f, "courses.csv", "status", "active"), "must be blank in bulk"),
    "date format": (
        lambda f: _set(f, "academicSessions.csv", "startDate", "01/09/2026"),
        "not a date",
    ),
    "inclusive end": (
        lambda f: _set(f, "academicSessions.csv", "endDate", "2026-09-01"),
        "endDate (exclusive) must come after",
    ),
    "dangling class": (
        lambda f: _set(f, "enrollments.csv", "classSourcedId", "nope"),
        "class nope",
    ),
    "dangling course": (lambda f: _set(f, "classes.csv", "courseSourcedId", "nope"), "course nope"),
    "dangling term": (lambda f: _set(f, "classes.csv", "termSourcedIds", "nope"), "term nope"),
    "duplicate id": (
        lambda f: f["users.csv"].append(list(f["users.csv"][1])),
        "is not unique",
    ),
    "line break": (lambda f: _set(f, "users.csv", "familyName", "Smith\nJones"), "line break"),
    "grade": (lambda f: _set(f, "users.csv", "grades", "Year 7"), "not in the CEDS vocabulary"),
    "empty file": (
        lambda f: f.__setitem__("courses.csv", f["courses.csv"][:1]),
        "must have data rows",
    ),
    "file not listed": (
        lambda f: f.__setitem__(
            "manifest.csv", [r for r in f["manifest.csv"] if r[0] != "file.users"]
        ),
        "file.users must be bulk, delta or absent",
    ),
    "student as primary": (
        lambda f: _set(f, "enrollments.csv", "primary", "true", row=len(f["enrollments.csv"]) - 1),
        "a student cannot be the primary teacher",
    ),
    "outside the term": (
        lambda f: _set(f, "enrollments.csv", "endDate", "2028-01-01"),
        "outside its class's academic sessions",
    ),
}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
@pytest.mark.parametrize("breach", sorted(ONEROSTER_BREACHES))
def test_oneroster_validator_finds(version: str, breach: str) -> None:
    files = _files(version)
    change, message = ONEROSTER_BREACHES[breach]
    change(files)
    problems = _validate(version, files)
    assert any(message in p for p in problems), problems


def test_oneroster_12_needs_a_role_for_every_user() -> None:
    files = _files("1.2")
    files["roles.csv"] = files["roles.csv"][:2]
    assert any("needs a primary role" in p for p in _validate("1.2", files))


def test_oneroster_11_user_roles() -> None:
    files = _files("1.1")
    _set(files, "users.csv", "role", "staff")
    assert any("not a OneRoster 1.1 user role" in p for p in _validate("1.1", files))


SDS_BREACHES: dict[str, tuple[Breach, str]] = {
    "required file": (lambda f: f.pop("roles.csv") and None, "roles.csv: required file is missing"),
    "classes alone": (lambda f: f.pop("enrollments.csv") and None, "come together"),
    "header case": (lambda f: _set(f, "users.csv", "username", "userName", row=0), "wrongly cased"),
    "role": (lambda f: _set(f, "roles.csv", "role", "pupil"), "role 'pupil' is not an SDS value"),
    "org type": (lambda f: _set(f, "orgs.csv", "type", "academy"), "type 'academy'"),
    "boolean": (lambda f: _set(f, "roles.csv", "isPrimary", "yes"), "isPrimary 'yes'"),
    "date": (lambda f: _set(f, "academicSessions.csv", "startDate", "1/9/2026"), "not an ISO 8601"),
    "line break": (lambda f: _set(f, "classes.csv", "title", "7x\r\nMa1"), "line breaks"),
    "dangling user": (lambda f: _set(f, "enrollments.csv", "userSourcedId", "nope"), "nope is not"),
    "dangling session": (
        lambda f: _set(f, "classes.csv", "sessionSourcedIds", "nope"),
        "nope is not",
    ),
    "username": (lambda f: _set(f, "users.csv", "username", "003001"), "is not an address"),
    "no role": (lambda f: f.__setitem__("roles.csv", f["roles.csv"][:2]), "a user without a role"),
    "required value": (lambda f: _set(f, "users.csv", "familyName", ""), "familyName is required"),
}


@pytest.mark.parametrize("breach", sorted(SDS_BREACHES))
def test_sds_validator_finds(breach: str) -> None:
    files = _files("sds")
    change, message = SDS_BREACHES[breach]
    change(files)
    problems = _validate("sds", files)
    assert any(message in p for p in problems), problems
