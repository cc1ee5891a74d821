"""Assessment marksheets: every grade of a marksheet is imported, joined to its pupil, and
kept in the store (one row per pupil, aspect, grade type and term)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from attrs import evolve

from misbridge.model import Assessment, Dataset
from misbridge.result import OutcomeStatus
from misbridge.store import open_store
from misbridge.testing.school import sample_school
from misbridge_spreadsheet.mapping import load_mapping
from misbridge_spreadsheet.render import sheet_rows
from misbridge_spreadsheet.simulator import write_csv, write_workbook
from tests.core.store.factory import rows
from tests.plugins.spreadsheet.helpers import extract, mapping_file

ASPECTS = ("Maths Working At", "Maths Target", "English Predicted")
TERM = "2026/2027 Autumn"
GRADES = [f"{g}{s}" for g in range(1, 10) for s in ("-", "", "+")]

MARKSHEET = """
[[sheets]]
record = "marksheet"
file = "Year 9 Marksheet"
other_columns = "aspects"
grade_words = ["Working At", "Target", "Predicted"]
ignore = ["Name"]
[sheets.columns]
student = "Student ID"
"""


def _grade(pupil: int, aspect: int) -> str:
    return GRADES[(pupil * 7 + aspect * 11) % len(GRADES)]


def test_three_aspects_for_150_pupils_import_with_every_grade(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    pupils = [f"P{n:04d}" for n in range(150)]
    header = ["Student ID", "Name", *ASPECTS]
    body = [[p, f"Pupil {n}", *(_grade(n, a) for a in range(3))] for n, p in enumerate(pupils)]
    write_workbook(folder / "Year 9 Marksheet.xlsx", [("Marksheet", header, body)], None)  # type: ignore[list-item]
    mapping = mapping_file(tmp_path / "marksheet.toml", MARKSHEET)
    result = extract(
        folder,
        [Dataset.ASSESSMENTS],
        mapping=str(mapping),
        term=TERM,
        assessed_on="2026-11-02",
    )
    assert result.outcomes[Dataset.ASSESSMENTS].status is OutcomeStatus.COMPLETE
    assert result.errors == []
    kinds = {"Maths Working At": "working-at", "Maths Target": "target"}
    expected = {
        Assessment(
            student_mis_id=p,
            aspect=aspect,
            result=_grade(n, a),
            grade_type=kinds.get(aspect, "predicted"),
            subject=aspect.split()[0],
            term=TERM,
            result_date=date(2026, 11, 2),
        )
        for n, p in enumerate(pupils)
        for a, aspect in enumerate(ASPECTS)
    }
    got = result.of(Dataset.ASSESSMENTS)
    assert len(got) == 450
    assert set(got) == expected


def _sims_export(folder: Path, school: object) -> None:
    """The pupils as SIMS's students report, and a SIMS marksheet naming them by Adno."""
    sims = load_mapping("sims")
    (students,) = sims.sheets_for(Dataset.STUDENTS)
    header, body = sheet_rows(students, school)  # type: ignore[arg-type]
    write_csv(folder / "misbridge Students.csv", header, body)


def test_a_sims_marksheet_joins_pupils_by_admission_number(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    school = sample_school(students=60)
    _sims_export(folder, school)
    on_roll = [s for s in school.students if s.admission_number]
    header = ["Name", "Adno", "Reg", *ASPECTS]
    body: list[list[object]] = [
        [f"{s.legal_surname}, {s.legal_forename}", s.admission_number, "9A"]
        + [_grade(n, a) if (n + a) % 17 else None for a in range(3)]
        for n, s in enumerate(on_roll)
    ]
    body.append(["Nobody, Known", "999999", "9A", "5", "6", "7"])
    write_workbook(folder / "Marksheet.xlsx", [("Marksheet", header, body)], None)  # type: ignore[list-item]
    result = extract(folder, [Dataset.ASSESSMENTS], mapping="sims", term=TERM)
    outcome = result.outcomes[Dataset.ASSESSMENTS]
    # The unknown pupil's row is named; every other grade is still imported.
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "1 row(s) name a student admission number that no student has" in (outcome.message or "")
    assert f"(rows {len(body) + 1})" in (outcome.message or "")
    want = {
        (s.mis_id, aspect, _grade(n, a))
        for n, s in enumerate(on_roll)
        for a, aspect in enumerate(ASPECTS)
        if (n + a) % 17
    }
    got = {(g.student_mis_id, g.aspect, g.result) for g in result.of(Dataset.ASSESSMENTS)}
    assert got == want
    assert all(g.term == TERM and g.result_date is None for g in result.of(Dataset.ASSESSMENTS))


def test_overlapping_marksheets_keep_the_first_grade_and_report_the_second(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_csv(folder / "Year 9 Marksheet.csv", ["Student ID", "Maths Target"], [["P1", "6"]])
    write_csv(folder / "Catch Up.csv", ["Student ID", "Maths Target"], [["P1", "7"], ["P2", "5"]])
    second = MARKSHEET.replace("Year 9 Marksheet", "Catch Up")
    mapping = mapping_file(tmp_path / "marksheet.toml", MARKSHEET + second)
    result = extract(folder, [Dataset.ASSESSMENTS], mapping=str(mapping))
    got = [(g.student_mis_id, g.result) for g in result.of(Dataset.ASSESSMENTS)]
    assert got == [("P1", "6"), ("P2", "5")]
    assert [(e.code, e.mis_id, e.field) for e in result.errors] == [("MB6020", "P1", "result")]


def test_a_header_that_repeats_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    header = ["Student ID", "Maths Target", "Maths  target"]
    write_csv(folder / "Year 9 Marksheet.csv", header, [["P1", "6", "7"]])
    mapping = mapping_file(tmp_path / "marksheet.toml", MARKSHEET)
    outcome = extract(folder, [Dataset.ASSESSMENTS], mapping=str(mapping)).outcomes[
        Dataset.ASSESSMENTS
    ]
    assert outcome.status is OutcomeStatus.FAILED
    assert "has the column 'Maths Target' 2 times" in (outcome.message or "")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_marksheets_sync_into_the_store_and_a_new_grade_is_an_update(
    tmp_path: Path, store_url: str
) -> None:
    from misbridge_spreadsheet.simulator import SpreadsheetSimulator

    school = sample_school(students=40, staff=4, assessments=True)
    datasets = [Dataset.YEARS, Dataset.STUDENTS, Dataset.ASSESSMENTS]
    with SpreadsheetSimulator(school, format="csv") as sim:
        first = extract(sim.path, datasets, mapping="misbridge")
    grades = first.of(Dataset.ASSESSMENTS)
    assert len(grades) == len(school.assessments) > 100
    # Grades of pupils the extract rejected (no forename, no surname) wait with them.
    on_roll = {s.mis_id for s in first.of(Dataset.STUDENTS)}
    grades = [g for g in grades if g.student_mis_id in on_roll]
    with open_store(store_url) as store:
        store.sync(first)
        stored = rows(store, "assessment")
        assert len(stored) == len(grades)
        assert {(r["aspect"], r["result"]) for r in stored} == {
            (g.aspect, g.result) for g in grades
        }
        assert store.plan(first).empty
        changed = next(
            a for a in school.assessments if a.result != "9+" and a.student_mis_id in on_roll
        )
        school2 = evolve(
            school,
            assessments=tuple(
                evolve(a, result="9+") if a is changed else a for a in school.assessments
            ),
        )
        with SpreadsheetSimulator(school2, format="csv") as sim:
            second = extract(sim.path, datasets, mapping="misbridge")
        plan = store.plan(second)
        updates = plan.datasets[Dataset.ASSESSMENTS].updates
        assert [(u.kind, {k: c.new for k, c in u.changes.items()}) for u in updates] == [
            ("assessment", {"result": "9+"})
        ]
        store.sync(second)
        assert sum(r["result"] == "9+" for r in rows(store, "assessment")) == sum(
            a.result == "9+" for a in school2.assessments if a.student_mis_id in on_roll
        )
