"""``misbridge spreadsheet map|mappings|check|extract`` and ``misbridge demo --mis
spreadsheet``, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.model import Dataset
from misbridge.plugins import get_plugin_manager
from misbridge.testing.school import sample_school
from misbridge_spreadsheet.mapping import parse_mapping
from misbridge_spreadsheet.propose import propose
from misbridge_spreadsheet.simulator import SpreadsheetSimulator, write_csv, write_workbook


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))
    for name in ("MISBRIDGE_SPREADSHEET_PASSWORD", "MISBRIDGE_SPREADSHEET_PATH"):
        monkeypatch.delenv(name, raising=False)


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), args, env=env)
    return result.exit_code, result.output


SIMS_STUDENTS = ["Person ID", "Adno", "UPN", "Legal Forename", "Legal Surname", "Gender"]
SIMS_STUDENTS += ["Date of Birth", "Year", "Email", "Mobile", "Tutor"]


def test_map_proposes_a_student_mapping_from_headers(tmp_path: Path) -> None:
    path = tmp_path / "Pupils.csv"
    write_csv(path, SIMS_STUDENTS, [["1", "001", "", "A", "B", "F", "2013-01-01", "8", "", "", ""]])
    code, text = _invoke(["spreadsheet", "map", str(path)])
    assert code == 0, text
    mapping = parse_mapping(text, "proposed.toml")
    (sheet,) = mapping.sheets
    assert (sheet.record, sheet.file) == ("student", "Pupils")
    names = {f: getattr(s, "name", None) for f, s in sheet.columns.items()}
    assert names["mis_id"] == "Person ID" and names["admission_number"] == "Adno"
    assert names["legal_surname"] == "Legal Surname" and names["year_group"] == "Year"
    kinds = {(g.kind, getattr(g.fields["type"], "value", None)) for g in sheet.groups}
    assert kinds == {("emails", "H"), ("telephones", "M")}
    assert '# Headers left unmapped: "Tutor"' in text


def test_map_recognises_a_marksheet(tmp_path: Path) -> None:
    path = tmp_path / "Y9 Maths.xlsx"
    header = ["Name", "Adno", "Reg", "Maths Working At", "Maths Target", "Maths Predicted"]
    write_workbook(path, [("Marksheet", header, [["B, A", "001", "9A", "5", "6", "6+"]])], None)
    text = propose(path)
    (sheet,) = parse_mapping(text, "proposed.toml").sheets
    assert (sheet.record, sheet.student_key, sheet.other_columns) == (
        "marksheet",
        "admission_number",
        "aspects",
    )
    assert sheet.ignore == ("Name", "Reg")


def test_a_proposal_without_an_id_does_not_load_until_someone_names_it(tmp_path: Path) -> None:
    path = tmp_path / "Staff list.csv"
    write_csv(path, ["Title", "First Name", "Last Name", "Initials"], [["Ms", "A", "B", "AB"]])
    text = propose(path, record="staff")
    assert '# mis_id = "?"  # required' in text
    with pytest.raises(Exception, match="must map mis_id"):
        parse_mapping(text, "proposed.toml")


def test_mappings_lists_sources_and_inferred_headers() -> None:
    code, output = _invoke(["spreadsheet", "mappings"])
    assert code == 0, output
    assert "sims: SIMS 7 reports" in output and "inferred headers: Name" in output


def test_check_names_the_missing_export_and_extract_writes_the_folder(tmp_path: Path) -> None:
    school = sample_school(students=30, staff=4, assessments=True)
    with SpreadsheetSimulator(school, format="csv", deny=[Dataset.STAFF]) as sim:
        wide = {"COLUMNS": "300"}
        code, output = _invoke(["spreadsheet", "check", "--path", str(sim.path)], wide)
        assert code == 3, output
        assert "no file Staff.csv or Staff.xlsx" in output
        out = tmp_path / "out"
        args = ["spreadsheet", "extract", "--path", str(sim.path), "--out", str(out)]
        code, output = _invoke([*args, "--dataset", "students", "--assessments"])
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["assessments"]["status"] == "complete"
    assert summary["datasets"]["assessments"]["records"] == len(school.assessments)
    lines = (out / "assessments.jsonl").read_text().splitlines()
    assert len(lines) == len(school.assessments)
    assert json.loads(lines[0])["type"] == "Assessment"


def test_demo_runs_on_the_spreadsheet_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = _invoke(["demo", "--mis", "spreadsheet", "--students", "40", "--staff", "5"])
    assert code == 0, output
    assert "Spreadsheet exports" in output
    summary = json.loads((tmp_path / "misbridge-demo" / "summary.json").read_text())
    assert {d: s["status"] for d, s in summary["datasets"].items()} == {
        "years": "complete",
        "staff": "complete",
        "students": "complete",
        "groups": "complete",
        "assessments": "complete",
    }
    again_code, again = _invoke(
        ["demo", "--mis", "spreadsheet", "--students", "40", "--staff", "5"]
    )
    assert again_code == 0, again
