"""Hostile values survive the CSV round trip: commas, quotes, formula-leading characters
and non-Latin letters come back exactly (no spreadsheet escaping: these files are read
by machines); line breaks and other control characters, which neither format allows,
come back as spaces, and each record that had one is reported."""

from __future__ import annotations

import re
from pathlib import Path

from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from misbridge.errors import Severity
from misbridge.export import (
    build_oneroster,
    build_sds,
    export_oneroster,
    read_package,
    roster_from_store,
)
from misbridge.export.from_extract import roster_from_extract
from misbridge.export.package import read_csv
from misbridge.model import Dataset
from misbridge.source import SourceSchool
from misbridge.store import Store
from misbridge.testing.strategies import schools
from tests.core.export import oneroster_spec, sds_spec
from tests.core.export.schools import ORG, TODAY, small_school, student, with_school_emails
from tests.core.export.test_validators import _zip
from tests.core.store.factory import extract, group, membership, years
from tests.core.store.factory import student as stored_student
from tests.core.store.sources import normalised

_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")

hostile = st.text(
    alphabet=st.one_of(
        st.sampled_from([",", '"', "'", "=", "+", "-", "@", "\t", "\r", "\n", " ", ";"]),
        st.sampled_from(["\u2028", "\x85", "\x0b", "\x00"]),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    min_size=1,
    max_size=30,
).filter(lambda v: _UNSAFE.sub(" ", v).strip() != "")


def _expected(value: str) -> str:
    return _UNSAFE.sub(" ", value)


@settings(max_examples=60, deadline=None)
@given(forename=hostile, surname=hostile, title=hostile, subject=hostile)
def test_hostile_values_round_trip_through_both_formats(
    forename: str, surname: str, title: str, subject: str
) -> None:
    base = small_school()
    pupil = student(0, legal_forename=forename, legal_surname=surname)
    maths = evolve(base.classes[0], name=title, subject=subject)
    r = evolve(base, people=(pupil, *base.people[1:]), classes=(maths, *base.classes[1:]))
    unsafe = any(_UNSAFE.search(v) for v in (forename, surname, title, subject))

    package, issues = build_oneroster(r, **ORG)
    files = package.files()
    assert oneroster_spec.validate(_zip({n: _table(d) for n, d in files.items()}), "1.2") == []
    users = {u["sourcedId"]: u for u in read_csv(files["users.csv"])}
    user = users[r.sourced_id(pupil.key)]
    assert (user["givenName"], user["familyName"]) == (_expected(forename), _expected(surname))
    classes = {c["sourcedId"]: c for c in read_csv(files["classes.csv"])}
    assert classes[r.sourced_id(maths.key)]["title"] == _expected(title)
    assert classes[r.sourced_id(maths.key)]["subjects"] == _expected(subject)
    assert any(e.code == "MB7030" for e in issues.errors) == unsafe

    sds, sds_issues = build_sds(r, org_name=ORG["org_name"])
    sds_files = sds.files()
    assert sds_spec.validate(_zip({n: _table(d) for n, d in sds_files.items()})) == []
    (sds_user,) = [
        u for u in read_csv(sds_files["users.csv"]) if u["sourcedId"] == user["sourcedId"]
    ]
    assert (sds_user["givenName"], sds_user["familyName"]) == (
        _expected(forename),
        _expected(surname),
    )
    assert any(e.code == "MB7030" for e in sds_issues.errors) == unsafe


def _table(data: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


NAMES = [
    '=HYPERLINK("http://x.example","y")',
    'O"Brien, Jr',
    "-Smith",
    "+44 7700",
    "@home",
    "'Quote",
]


def test_hostile_names_through_the_store(store: Store, tmp_path: Path) -> None:
    pupils = [
        stored_student(n, legal_forename=name, legal_surname=NAMES[-1 - n])
        for n, name in enumerate(NAMES)
    ]
    records = {
        Dataset.YEARS: years(),
        Dataset.STUDENTS: pupils,
        Dataset.GROUPS: [group(0, name="=1+1", subject='Maths, "Further"')]
        + [membership(0, n) for n in range(len(NAMES))],
    }
    store.sync(extract("sims", records), today=TODAY)
    result = export_oneroster(roster_from_store(store), tmp_path, **ORG)
    files = read_package(result.zip_path)
    names = {(u["givenName"], u["familyName"]) for u in files["users.csv"]}
    assert names == {(p.legal_forename, p.legal_surname) for p in pupils}
    (klass,) = files["classes.csv"]
    assert (klass["title"], klass["subjects"]) == ("=1+1", 'Maths, "Further"')
    raw = (result.folder / "users.csv").read_bytes()
    assert b"'=HYPERLINK" not in raw and b'"=HYPERLINK(""http://x.example"",""y"")"' in raw
    assert result.errors == []


@settings(max_examples=12, deadline=None)
@given(
    school=schools(max_students=40),
    school_emails=st.booleans(),
    version=st.sampled_from(["1.2", "1.1"]),
)
def test_generated_schools_pass_and_nothing_is_dropped_silently(
    school: SourceSchool, school_emails: bool, version: str
) -> None:
    if school_emails:
        school = with_school_emails(school)
    r = roster_from_extract(normalised(school, "arbor"), today=TODAY)
    oneroster, issues = build_oneroster(r, version=version, **ORG)
    sds, sds_issues = build_sds(r, org_name=ORG["org_name"])
    for package, found, check in (
        (oneroster, issues.errors, lambda z: oneroster_spec.validate(z, version)),
        (sds, sds_issues.errors, sds_spec.validate),
    ):
        files = package.files()
        assert check(_zip({n: _table(d) for n, d in files.items()})) == []
        # Every person and class is either in the files or reported as left out.
        exported = {row["sourcedId"] for row in read_csv(files["users.csv"])}
        exported |= {row["sourcedId"] for row in read_csv(files.get("classes.csv", b""))}
        left_out = {e.record_label for e in found if e.severity is Severity.ERROR}
        for record in (*r.people, *r.classes):
            assert (r.sourced_id(record.key) in exported) != (record.origin.label in left_out)
