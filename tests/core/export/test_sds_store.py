"""The School Data Sync v2.1 export of the sample school from the store, on SQLite and
on PostgreSQL: it passes the validator written from Microsoft's documentation, and
parsing it back gives what the store holds."""

from __future__ import annotations

import uuid
from pathlib import Path

from misbridge.export import export_sds, read_package, roster_from_store
from misbridge.store import Store
from misbridge.testing.school import sample_school
from tests.core.export import sds_spec
from tests.core.export.schools import ORG, TODAY
from tests.core.store.factory import rows
from tests.core.store.sources import normalised

SDS_FILES = {
    "orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv",
    "academicSessions.csv", "courses.csv", "demographics.csv",
}  # fmt: skip


def test_sample_school_passes_the_sds_validator_and_round_trips(
    synced: Store, tmp_path: Path
) -> None:
    result = export_sds(roster_from_store(synced), tmp_path, org_name=ORG["org_name"])
    assert sds_spec.validate(result.zip_path.read_bytes()) == []
    files = read_package(result.zip_path)
    assert set(files) == SDS_FILES
    store_id = rows(synced, "store_state")[0]["store_id"]

    def sid(key: str) -> str:
        return str(uuid.uuid5(uuid.UUID(store_id), key))

    students = {r["id"]: r for r in rows(synced, "student", enabled=True)}
    staff = {r["id"]: r for r in rows(synced, "staff", enabled=True)}
    named = {
        k: s
        for k, s in students.items()
        if (s["legal_forename"] or s["preferred_forename"])
        and (s["legal_surname"] or s["preferred_surname"])
    }
    expected = {
        sid(f"student:{k}"): (
            s["work_email"],
            s["preferred_forename"] or s["legal_forename"],
            s["preferred_surname"] or s["legal_surname"],
        )
        for k, s in named.items()
    } | {
        sid(f"staff:{k}"): (t["work_email"], t["forename"], t["surname"]) for k, t in staff.items()
    }
    assert {
        u["sourcedId"]: (u["username"], u["givenName"], u["familyName"]) for u in files["users.csv"]
    } == expected
    assert {u["email"] for u in files["users.csv"]} == {v[0] for v in expected.values()}
    roles = {
        r["userSourcedId"]: (r["role"], r["grade"], r["isPrimary"]) for r in files["roles.csv"]
    }
    assert roles == {
        sid(f"student:{k}"): ("student", s["year_group"], "true") for k, s in named.items()
    } | {sid(f"staff:{k}"): ("teacher", "", "true") for k in staff}
    memberships = {
        (
            sid(f"group:{m['group_id']}"),
            sid(f"{'student' if m['role'] == 'student' else 'staff'}:{m['person_id']}"),
            "student" if m["role"] == "student" else "teacher",
        )
        for m in rows(synced, "membership", enabled=True)
        if m["group_kind"] in ("class", "registration")
    }
    exported = {
        (e["classSourcedId"], e["userSourcedId"], e["role"]) for e in files["enrollments.csv"]
    }
    assert exported == {m for m in memberships if m[1] in expected}
    years = rows(synced, "academic_year", enabled=True)
    assert {
        (a["title"], a["startDate"], a["endDate"], a["schoolYear"])
        for a in files["academicSessions.csv"]
    } == {
        (y["name"], y["start_date"].isoformat(), y["end_date"].isoformat(), str(y["end_date"].year))
        for y in years
    }
    assert {e.code for e in result.errors} == {"MB7003"}
    (org,) = files["orgs.csv"]
    assert (org["sourcedId"], org["name"], org["type"]) == (
        sid("org:school"),
        "Hollowfield Academy",
        "school",
    )


def test_pupils_without_a_school_email_are_reported(store: Store, tmp_path: Path) -> None:

    store.sync(normalised(sample_school(students=30, staff=4), "sims"), today=TODAY)
    result = export_sds(roster_from_store(store), tmp_path, org_name=ORG["org_name"])
    assert sds_spec.validate(result.zip_path.read_bytes()) == []
    missing = {e.record_label for e in result.errors if e.code == "MB7002"}
    students = rows(store, "student", enabled=True)
    assert len(missing) == sum(1 for s in students if not s["work_email"]) > 0
    report = (tmp_path / "errors.csv").read_text("utf-8-sig")
    assert "MB7002" in report and "sign-in name" in report
    html = (tmp_path / "report.html").read_text("utf-8")
    assert "SDS v2.1 export" in html and "MB7002" in html
