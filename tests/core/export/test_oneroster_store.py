"""OneRoster 1.2 and 1.1 exports of the sample school from the store, on SQLite and on
PostgreSQL: they pass the validator written from the specifications, and parsing them
back gives what the store holds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from misbridge.export import export_oneroster, read_package, roster_from_store
from misbridge.export.rules import CEDS_GRADES
from misbridge.store import Store
from misbridge.testing.school import with_new_ids
from tests.core.export import oneroster_spec
from tests.core.export.schools import ORG, TODAY, sample, sample_extract
from tests.core.store.factory import rows, school
from tests.core.store.sources import normalised


def _export(store: Store, out: Path, version: str, profile: str = "roster") -> Any:
    return export_oneroster(roster_from_store(store), out, version=version, profile=profile, **ORG)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_sample_school_passes_the_spec_validator(
    synced: Store, tmp_path: Path, version: str
) -> None:
    out = tmp_path / "export" / "oneroster"
    result = _export(synced, out, version)
    assert oneroster_spec.validate(result.zip_path.read_bytes(), version) == []
    expected = {"manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv"}
    expected |= {"users.csv", "enrollments.csv", "demographics.csv"}
    if version == "1.2":
        expected.add("roles.csv")
    assert set(read_package(result.zip_path)) == expected
    # The folder holds the same files as the zip, and the report sits beside them.
    assert read_package(result.folder) == read_package(result.zip_path)
    assert {p.name for p in out.iterdir()} >= {"errors.csv", "report.html", "summary.json"}
    # Pupils' data: every folder and file is the owner's only.
    for path in (out, result.folder, *out.iterdir(), *result.folder.iterdir()):
        assert path.stat().st_mode & 0o077 == 0, path


def _store_people(store: Store) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    accounts = {a["person_id"]: a for a in rows(store, "account")}
    students = {
        r["id"]: r | {"account": accounts.get(r["id"])}
        for r in rows(store, "student", enabled=True)
    }
    staff = {r["id"]: r for r in rows(store, "staff", enabled=True)}
    return students, staff


def _email(student: dict[str, Any]) -> str | None:
    preference = (student["account"] or {}).get("contact_preference")
    if preference == "Work":
        return student["work_email"] or student["personal_email"]
    return student["personal_email"] or student["work_email"]


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_round_trip_gives_back_the_store(synced: Store, tmp_path: Path, version: str) -> None:
    result = _export(synced, tmp_path, version)
    files = read_package(result.zip_path)
    students, staff = _store_people(synced)
    store_id = rows(synced, "store_state")[0]["store_id"]

    def sid(key: str) -> str:
        return str(uuid.uuid5(uuid.UUID(store_id), key))

    named = {
        k: s
        for k, s in students.items()
        if (s["legal_forename"] or s["preferred_forename"])
        and (s["legal_surname"] or s["preferred_surname"])
    }
    # The two pupils without a forename or a surname are reported, never exported.
    assert {(e.code, e.field) for e in result.errors} == {
        ("MB7003", "forename"),
        ("MB7003", "surname"),
    }
    assert len(students) - len(named) == 2

    users = {u["sourcedId"]: u for u in files["users.csv"]}
    expected = {}
    for k, s in named.items():
        if version == "1.1":
            given = s["preferred_forename"] or s["legal_forename"]
            family = s["preferred_surname"] or s["legal_surname"]
        else:
            given = s["legal_forename"] or s["preferred_forename"]
            family = s["legal_surname"] or s["preferred_surname"]
        expected[sid(f"student:{k}")] = (
            s["admission_number"] or "",
            given,
            family,
            s["account"]["username"] or _email(s),
            _email(s) or "",
            CEDS_GRADES[s["year_group"]],
        )
    for k, t in staff.items():
        expected[sid(f"staff:{k}")] = (
            t["staff_code"],
            t["forename"],
            t["surname"],
            t["work_email"],
            t["work_email"],
            "",
        )
    found = {
        s: (
            u["identifier"],
            u["givenName"],
            u["familyName"],
            u["username"],
            u["email"],
            u["grades"],
        )
        for s, u in users.items()
    }
    assert found == expected
    if version == "1.2":
        preferred = {sid(f"student:{k}"): s["preferred_forename"] or "" for k, s in named.items()}
        assert {s: u["preferredGivenName"] for s, u in users.items() if s in preferred} == preferred
        assert {r["userSourcedId"] for r in files["roles.csv"]} == set(users)
    else:
        roles = {u["sourcedId"]: u["role"] for u in files["users.csv"]}
        assert {roles[sid(f"staff:{k}")] for k in staff} == {"teacher"}

    # Classes and registration groups, with the store's names, subjects and kinds.
    groups = {
        g["id"]: g
        for g in rows(synced, "roster_group", enabled=True)
        if g["kind"] in ("class", "registration")
    }
    classes = {c["sourcedId"]: c for c in files["classes.csv"]}
    assert {(c["title"], c["classType"], c["subjects"]) for c in classes.values()} == {
        (g["name"], "scheduled" if g["kind"] == "class" else "homeroom", g["subject"] or "")
        for g in groups.values()
    }
    # Enrolments: every enabled membership of an exported person, with its dates (the
    # end date exclusive).
    years = rows(synced, "academic_year", enabled=True)
    current = next(y for y in years if y["start_date"] <= TODAY <= y["end_date"])
    assert {c["termSourcedIds"] for c in classes.values()} == {
        sid(f"academic_year:{current['id']}")
    }
    expected_enrolments = set()
    for m in rows(synced, "membership", enabled=True):
        if m["group_kind"] not in ("class", "registration"):
            continue
        person = f"{'student' if m['role'] == 'student' else 'staff'}:{m['person_id']}"
        if sid(person) not in users:
            continue
        expected_enrolments.add(
            (
                sid(f"group:{m['group_id']}"),
                sid(person),
                "student" if m["role"] == "student" else "teacher",
                m["start_date"].isoformat(),
                (m["end_date"] + timedelta(days=1)).isoformat(),
            )
        )
    assert {
        (e["classSourcedId"], e["userSourcedId"], e["role"], e["beginDate"], e["endDate"])
        for e in files["enrollments.csv"]
    } == expected_enrolments
    assert result.skipped == sum(
        1
        for m in rows(synced, "membership", enabled=True)
        if m["group_kind"] in ("class", "registration")
    ) - len(expected_enrolments)
    # Birth dates and sex of the exported pupils (the roster profile allows them).
    demographics = {d["sourcedId"]: (d["birthDate"], d["sex"]) for d in files["demographics.csv"]}
    assert demographics == {
        sid(f"student:{k}"): (s["date_of_birth"].isoformat(), s["gender"].lower())
        for k, s in named.items()
        if s["gender"] in ("Male", "Female")
    } | {
        sid(f"student:{k}"): (s["date_of_birth"].isoformat(), "")
        for k, s in named.items()
        if s["gender"] not in ("Male", "Female")
    }
    # The org and the academic years.
    (org,) = files["orgs.csv"]
    assert (org["sourcedId"], org["name"], org["identifier"], org["type"]) == (
        sid("org:school"),
        "Hollowfield Academy",
        "140321",
        "school",
    )
    assert {
        (a["title"], a["startDate"], a["endDate"], a["schoolYear"])
        for a in files["academicSessions.csv"]
    } == {
        (
            y["name"],
            y["start_date"].isoformat(),
            (y["end_date"] + timedelta(days=1)).isoformat(),
            str(y["end_date"].year),
        )
        for y in years
    }


def test_account_sync_profile_passes_on_no_demographics(synced: Store, tmp_path: Path) -> None:
    result = _export(synced, tmp_path, "1.2", profile="account-sync")
    files = read_package(result.zip_path)
    assert "demographics.csv" not in files
    manifest = {r["propertyName"]: r["value"] for r in files["manifest.csv"]}
    assert manifest["file.demographics"] == "absent"
    assert oneroster_spec.validate(result.zip_path.read_bytes(), "1.2") == []


def test_identifiers_survive_a_change_of_mis(store: Store, tmp_path: Path) -> None:
    store.sync(sample_extract("sims"), today=TODAY)
    before = export_oneroster(roster_from_store(store), tmp_path / "sims", **ORG)
    store.switch_mis()
    arbor = normalised(with_new_ids(sample()), "arbor")
    report = store.sync(arbor, today=TODAY)
    assert report.applied
    after = export_oneroster(roster_from_store(store), tmp_path / "arbor", **ORG)
    assert read_package(after.zip_path)["users.csv"], "the export is not empty"
    # Every identifier, and every byte of the package, is as it was.
    assert after.zip_path.read_bytes() == before.zip_path.read_bytes()
    # ...while the records now name the new MIS in reports.
    assert {e.mis for e in after.errors} == {"arbor"}


def test_only_enabled_records_are_exported(store: Store, tmp_path: Path) -> None:
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(19)), today=TODAY)  # student 19 left: disabled
    result = export_oneroster(roster_from_store(store), tmp_path, **ORG)
    files = read_package(result.zip_path)
    identifiers = {u["identifier"] for u in files["users.csv"]}
    assert identifiers == {f"{n:06d}" for n in range(19)}
    (left,) = rows(store, "student", enabled=False)
    gone = str(
        uuid.uuid5(uuid.UUID(rows(store, "store_state")[0]["store_id"]), f"student:{left['id']}")
    )
    assert gone not in {e["userSourcedId"] for e in files["enrollments.csv"]}
    assert gone not in {d["sourcedId"] for d in files["demographics.csv"]}
    # The factory school's staff teach nothing: OneRoster has no role for them.
    assert sorted(e.record_label for e in result.errors if e.code == "MB7010") == [
        "staff code T00",
        "staff code T01",
        "staff code T02",
    ]
    assert oneroster_spec.validate(result.zip_path.read_bytes(), "1.2") == []
    assert result.summary["datasets"]["students"]["records"] == 19
