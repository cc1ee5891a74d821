"""The built-in mappings read their MIS's exports; a mapping's gaps become the plugin's
declared coverage; bad rows and missing columns are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from misbridge.errors import ConfigurationError
from misbridge.model import Dataset, GroupKind
from misbridge.result import OutcomeStatus
from misbridge.testing.conformance import expected_result
from misbridge.testing.school import sample_school
from misbridge_spreadsheet.coverage import lacks_of
from misbridge_spreadsheet.mapping import BUILTIN, load_mapping, parse_mapping
from misbridge_spreadsheet.render import sheet_rows
from misbridge_spreadsheet.simulator import write_csv, write_workbook
from tests.plugins.spreadsheet.helpers import STUDENTS_ONLY, extract, mapping_file


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_mapping_loads_and_says_where_its_headers_come_from(name: str) -> None:
    mapping = load_mapping(name)
    assert mapping.sheets and mapping.source
    assert Dataset.ASSESSMENTS in mapping.datasets


def test_sims_reports_exported_to_excel_read_every_field(tmp_path: Path) -> None:
    # The SIMS students, staff and years reports are cross products keyed by Person ID:
    # every address, telephone, email and SEN status of a pupil comes back.
    school = sample_school(students=40, staff=5)
    folder = tmp_path / "export"
    folder.mkdir()
    sims = load_mapping("sims")
    wanted = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS)
    for dataset in wanted:
        for sheet in sims.sheets_for(dataset):
            header, body = sheet_rows(sheet, school)
            write_workbook(folder / f"{sheet.file}.xlsx", [(sheet.file[:31], header, body)], None)
    result = extract(folder, wanted, mapping="sims")
    expected = expected_result("spreadsheet", school, wanted)
    for dataset in wanted:
        assert result.outcomes[dataset].status is OutcomeStatus.COMPLETE
        assert sorted(map(repr, result.of(dataset))) == sorted(map(repr, expected.of(dataset)))
    assert result.lacks == lacks_of(sims)


def test_a_sims_classes_report_gives_classes_and_both_kinds_of_member(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    header = [
        "Base Group ID", "Class", "Subject", "Student ID", "Student Start Date",
        "Student End Date", "Staff ID", "Staff Start Date", "Staff End Date",
    ]  # fmt: skip
    # A cross product: each pupil beside each teacher of the class.
    body = [
        ["C1", "9x/Ma1", "Maths", "P1", "01/09/2026", "", "T1", "01/09/2026", ""],
        ["C1", "9x/Ma1", "Maths", "P1", "01/09/2026", "", "T2", "01/09/2026", ""],
        ["C1", "9x/Ma1", "Maths", "P2", "01/09/2026", "", "T1", "01/09/2026", ""],
        ["C1", "9x/Ma1", "Maths", "P2", "01/09/2026", "", "T2", "01/09/2026", ""],
    ]
    write_csv(folder / "misbridge Classes.csv", header, body)  # type: ignore[arg-type]
    pastoral = ["Base Group ID", "Group Name", "Group Type", "Short Name", "Student ID"]
    pastoral += ["Student Start Date", "Student End Date", "Staff ID", "Staff Start Date"]
    pastoral += ["Staff End Date"]
    rows = [["R1", "9A", "Registration Group", "9A", "P1", "", "", "T1", "", ""]]
    rows += [["Y9", "Year 9", "Year Group", "", "P1", "", "", "", "", ""]]
    write_csv(folder / "misbridge Registration Groups and Houses.csv", pastoral, rows)  # type: ignore[arg-type]
    result = extract(folder, [Dataset.GROUPS], mapping="sims")
    assert result.outcomes[Dataset.GROUPS].status is OutcomeStatus.COMPLETE, result.outcomes
    groups = {(g.mis_id, g.kind) for g in result.of(Dataset.GROUPS) if hasattr(g, "kind")}
    assert groups == {("C1", GroupKind.CLASS), ("R1", GroupKind.REGISTRATION)}
    members = {
        (m.group_mis_id, m.person_mis_id, m.role.value)
        for m in result.of(Dataset.GROUPS)
        if hasattr(m, "person_mis_id")
    }
    assert members == {
        ("C1", "P1", "student"),
        ("C1", "P2", "student"),
        ("C1", "T1", "staff"),
        ("C1", "T2", "staff"),
        ("R1", "P1", "student"),
        ("R1", "T1", "staff"),
        ("Y9", "P1", "student"),
    }


def test_bromcom_views_and_assessment_results(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    students = ["studentId", "admissionNumber", "upn", "firstName", "lastName"]
    students += ["preferredFirstName", "preferredLastName", "genderCode", "dateOfBirth"]
    students += ["yearGroup", "studentEmail", "tutorGroupName"]
    write_csv(
        folder / "StudentFlatView.csv",
        students,
        [["1052", "004321", "", "Jane", "Smith", "Janey", "", "F", "20120304", "7", "", "7W"]],
    )
    write_csv(
        folder / "Staff.csv",
        ["staffId", "title", "firstName", "lastName", "staffCode", "workEmail"],
        [["77", "Ms", "Ada", "Byron", "ABY", "a.byron@school.example"]],
    )
    results = ["studentId", "assessmentTypeName", "result", "enteredDate", "termName"]
    results += ["yearGroupName", "subjectName", "isGrade"]
    write_csv(
        folder / "AssociationAssessmentResultsRaw.csv",
        results,
        [
            [
                "1052",
                "Working At Grade",
                "5+",
                "2026-11-03T00:00:00",
                "Autumn",
                "7",
                "Maths",
                "True",
            ],
            ["1052", "Target", "7", "2026-09-10T00:00:00", "Autumn", "7", "Maths", "True"],
        ],
    )
    datasets = [Dataset.STAFF, Dataset.STUDENTS, Dataset.ASSESSMENTS]
    result = extract(folder, datasets, mapping="bromcom")
    (pupil,) = result.of(Dataset.STUDENTS)
    assert (pupil.mis_id, pupil.admission_number, pupil.preferred_forename) == (
        "1052",
        "004321",
        "Janey",
    )
    assert pupil.date_of_birth is not None and pupil.date_of_birth.isoformat() == "2012-03-04"
    (teacher,) = result.of(Dataset.STAFF)
    assert (teacher.staff_code, teacher.work_email) == ("ABY", "a.byron@school.example")
    grades = {(g.grade_type, g.subject, g.result, g.term) for g in result.of(Dataset.ASSESSMENTS)}
    assert grades == {("working-at", "Maths", "5+", "Autumn"), ("target", "Maths", "7", "Autumn")}
    assert "Student.home_address" in result.lacks and "Student.upn" not in result.lacks


def test_an_arbor_marksheet_joins_pupils_by_upn(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    header = ["STUDENT_ID", "UPN", "FIRST_NAME", "LAST_NAME", "PREFERRED_FIRST_NAME"]
    header += ["PREFERRED_LAST_NAME", "GENDER", "DATE_OF_BIRTH", "ETHNICITY", "YEAR_GROUP"]
    row = ["1234", "A123456789012", "Jane", "Smith", "", "", "F", "2012-03-04", "WBRI", "Year 9"]
    write_csv(folder / "Students.csv", header, [row])
    write_csv(
        folder / "Marksheet.csv",
        ["Student", "UPN", "Science Predicted", "Science Target"],
        [["Smith, Jane", "A123456789012", "6", "7"]],
    )
    result = extract(folder, [Dataset.STUDENTS, Dataset.ASSESSMENTS], mapping="arbor", term="T1")
    grades = {(g.student_mis_id, g.grade_type, g.result) for g in result.of(Dataset.ASSESSMENTS)}
    assert grades == {("1234", "predicted", "6"), ("1234", "target", "7")}


def test_a_custom_mapping_declares_what_it_has_no_column_for(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_csv(
        folder / "Students.csv",
        ["Student ID", "Legal Forename", "Legal Surname", "Date of Birth", "NC Year"],
        [["S1", "Ann", "Lee", "2013-03-04", "8"]],
    )
    mapping = mapping_file(tmp_path / "students.toml", STUDENTS_ONLY)
    result = extract(folder, mapping=str(mapping))
    assert {"Student.upn", "Student.home_address", "Student.sen"} <= result.lacks
    assert "Student.legal_surname" not in result.lacks


def test_a_missing_column_refuses_the_file_with_a_suggestion(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write_csv(
        folder / "Students.csv",
        ["Student ID", "Legal Forename", "Legal Surnme", "Date of Birth", "NC Year"],
        [["S1", "Ann", "Lee", "2013-03-04", "8"]],
    )
    mapping = mapping_file(tmp_path / "students.toml", STUDENTS_ONLY)
    outcome = extract(folder, mapping=str(mapping)).outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "has no column 'Legal Surname' (is it 'Legal Surnme'?)" in (outcome.message or "")


def test_rows_without_an_id_are_named_and_the_others_imported(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    header = ["Student ID", "Legal Forename", "Legal Surname", "Date of Birth", "NC Year"]
    body = [["S1", "Ann", "Lee", "2013-03-04", "8"], ["", "Bo", "Ng", "2013-05-06", "8"]]
    body += [["S3", "Cy", "Oh", "2013-07-08", "8"]]
    write_csv(folder / "Students.csv", header, body)  # type: ignore[arg-type]
    mapping = mapping_file(tmp_path / "students.toml", STUDENTS_ONLY)
    result = extract(folder, mapping=str(mapping))
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "1 row(s) have no 'Student ID' (rows 3)" in (outcome.message or "")
    assert [s.mis_id for s in result.of(Dataset.STUDENTS)] == ["S1", "S3"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[sheets]]\nrecord = "pupil"\nfile = "x"\n', "record must be one of"),
        (
            '[[sheets]]\nrecord = "student"\nfile = "x"\n[sheets.columns]\nnick = "N"\n',
            "no ['nick']",
        ),
        ('[[sheets]]\nrecord = "student"\nfile = "x"\n', "must map mis_id"),
        (
            '[[sheets]]\nrecord = "marksheet"\nfile = "x"\n[sheets.columns]\nstudent = "S"\n',
            "aspects",
        ),
        ("[mapping\n", "its TOML"),
        ("[mapping]\n", "at least one [[sheets]]"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_key(text: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=r"mapping 'test\.toml'") as refused:
        parse_mapping(text, "test.toml")
    assert problem in str(refused.value)


def test_the_simulator_refuses_a_layout_it_cannot_write_faithfully() -> None:
    from misbridge_spreadsheet.simulator import SpreadsheetSimulator

    with pytest.raises(ValueError, match="reads a file twice"):
        SpreadsheetSimulator(sample_school(students=14, staff=2), mapping="sims")
