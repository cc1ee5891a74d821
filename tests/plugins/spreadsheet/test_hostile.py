"""Hostile and broken files are refused clearly, within the caps hostile XML has; nothing
in them is evaluated, inflated without bound, or read from outside the export folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from misbridge.errors import AuthenticationError, ConfigurationError
from misbridge.model import Dataset
from misbridge.result import OutcomeStatus
from misbridge_spreadsheet.simulator import write_workbook
from tests.plugins.spreadsheet.helpers import (
    SHEET,
    STUDENT_HEADER,
    STUDENTS_ONLY,
    extract,
    hand_xlsx,
    mapping_file,
    rows_xml,
    students_rows,
)


@pytest.fixture
def mapping(tmp_path: Path) -> str:
    return str(mapping_file(tmp_path / "students.toml", STUDENTS_ONLY))


def _failed(result: object) -> str:
    outcome = result.outcomes[Dataset.STUDENTS]  # type: ignore[attr-defined]
    assert outcome.status is OutcomeStatus.FAILED, outcome
    return outcome.message or ""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    return folder


# -- formulas ----------------------------------------------------------------------------------
def test_a_formula_refuses_its_file_without_being_evaluated(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    rows = students_rows(3)
    rows[1][2] = ("f", 'HYPERLINK("http://evil.example/","Smith")', "Smith")
    hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER, *rows])
    message = _failed(extract(folder, mapping=mapping))
    assert "cell C3 holds a formula" in message
    assert "evil.example" not in message and "HYPERLINK" not in message
    assert "formulas = cached" in message


def test_cached_formulas_read_the_value_excel_calculated(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    rows = students_rows(3)
    rows[1][2] = ("f", 'UPPER("never evaluated")', "Cached-Surname")
    rows[2][2] = ("f", "A1&B1", None)  # never calculated: no cached value, so blank
    hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER, *rows])
    result = extract(folder, mapping=mapping, formulas="cached")
    surnames = {s.mis_id: s.legal_surname for s in result.of(Dataset.STUDENTS)}
    assert surnames == {"S1": "Surname1", "S2": "Cached-Surname"}
    assert [(e.mis_id, e.code) for e in result.errors] == [("S3", "MB2002")]


def test_an_excel_error_value_refuses_its_file(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    rows = students_rows(2)
    rows[0][3] = ("e", "#N/A")
    hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER, *rows])
    assert "cell D2 holds an Excel error value (#N/A)" in _failed(extract(folder, mapping=mapping))


def test_csv_text_that_looks_like_a_formula_stays_text(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    (folder / "Students.csv").write_text(
        ",".join(STUDENT_HEADER) + "\nS1,=1+1,@SUM(A1),2013-03-04,8\n", encoding="utf-8"
    )
    (student,) = extract(folder, mapping=mapping).of(Dataset.STUDENTS)
    assert (student.legal_forename, student.legal_surname) == ("=1+1", "@SUM(A1)")


# -- zip bombs and damaged workbooks --------------------------------------------------------
def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    bomb = hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER], padding=8 * 1024 * 1024)
    assert bomb.stat().st_size < 100_000
    message = _failed(extract(folder, mapping=mapping))
    assert "zip bomb" in message and "xl/worksheets/sheet1.xml" in message


def test_the_total_uncompressed_size_is_capped(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER, *students_rows(200)])
    message = _failed(extract(folder, mapping=mapping, max_file_bytes=20_000))
    assert "inflates to over 20,000 bytes" in message


def test_a_part_that_climbs_out_of_the_archive_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    hand_xlsx(
        folder / "Students.xlsx",
        [STUDENT_HEADER, *students_rows(1)],
        extra={"../../etc/evil.xml": b"<x/>"},
    )
    assert "climbs out of the archive" in _failed(extract(folder, mapping=mapping))


def test_a_dtd_in_a_sheet_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    doctype = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    hand_xlsx(folder / "Students.xlsx", [STUDENT_HEADER, *students_rows(1)], doctype=doctype)
    assert "not a workbook openpyxl can read safely" in _failed(extract(folder, mapping=mapping))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("Students.xlsx", b"Student ID,Legal Forename\nS1,A\n", "no zip signature"),
        ("Students.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel 97-2003"),
        ("Students.ods", b"PK\x03\x04", "OpenDocument"),
    ],
)
def test_files_that_are_not_workbooks_are_named(
    tmp_path: Path, mapping: str, name: str, content: bytes, expected: str
) -> None:
    folder = _folder(tmp_path)
    (folder / name).write_bytes(content)
    assert expected in _failed(extract(folder, mapping=mapping))


def test_a_workbook_cut_short_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    whole = hand_xlsx(tmp_path / "whole.xlsx", [STUDENT_HEADER, *students_rows(50)]).read_bytes()
    (folder / "Students.xlsx").write_bytes(whole[: len(whole) * 2 // 3])
    assert "not a readable XLSX workbook" in _failed(extract(folder, mapping=mapping))


# -- huge sheets ----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("setting", "value", "make", "expected"),
    [
        ("max_rows", 10, lambda: [STUDENT_HEADER, *students_rows(20)], "more than 10 rows"),
        ("max_columns", 4, lambda: [STUDENT_HEADER, *students_rows(1)], "over the 4 cap"),
        (
            "max_cell_chars",
            50,
            lambda: [STUDENT_HEADER, ["S1", "A" * 51, "B", "2013-03-04", "8"]],
            "over 50 characters",
        ),
    ],
)
def test_sheet_caps(
    tmp_path: Path,
    mapping: str,
    suffix: str,
    setting: str,
    value: int,
    make: object,
    expected: str,
) -> None:
    folder = _folder(tmp_path)
    rows = make()  # type: ignore[operator]
    if suffix == "csv":
        lines = [",".join(str(c) for c in row) for row in rows]
        (folder / "Students.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        hand_xlsx(folder / "Students.xlsx", rows)
    assert expected in _failed(extract(folder, mapping=mapping, **{setting: value}))


def test_a_lying_dimension_does_not_pad_rows(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    hand_xlsx(
        folder / "Students.xlsx",
        [STUDENT_HEADER, *students_rows(2)],
        dimension='<dimension ref="A1:XFD1048576"/>',
    )
    result = extract(folder, mapping=mapping)
    assert [s.mis_id for s in result.of(Dataset.STUDENTS)] == ["S1", "S2"]


def test_a_cell_far_down_the_sheet_counts_against_the_row_cap(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    far = '<row r="900000"><c r="A900000"><v>1</v></c></row>'
    body = SHEET.format(doctype="", dimension="", rows=rows_xml([STUDENT_HEADER]) + far)
    hand_xlsx(folder / "Students.xlsx", sheet_xml=body)
    assert "more than 1,000 rows" in _failed(extract(folder, mapping=mapping, max_rows=1000))


# -- text encodings -------------------------------------------------------------------------
def _csv(folder: Path, text: str, encoding: str, bom: bytes = b"") -> None:
    (folder / "Students.csv").write_bytes(bom + text.encode(encoding))


ZOE = ",".join(STUDENT_HEADER) + "\nS1,Zoë,O'Brien £,2013-03-04,8\n"


def test_a_cp1252_file_declared_utf8_is_refused_with_a_hint(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ZOE, "cp1252")
    message = _failed(extract(folder, mapping=mapping))
    assert "is not utf-8 text (byte 0xEB on line 2)" in message
    assert "encoding = cp1252" in message


def test_a_cp1252_file_read_as_cp1252(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ZOE, "cp1252")
    (student,) = extract(folder, mapping=mapping, encoding="cp1252").of(Dataset.STUDENTS)
    assert student.legal_forename == "Zoë"


def test_a_utf8_file_declared_cp1252_is_refused_not_misread(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ZOE, "utf-8")
    message = _failed(extract(folder, mapping=mapping, encoding="cp1252"))
    assert "is UTF-8 text, but the encoding is set to cp1252" in message


def test_a_utf16_file_is_named(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ZOE, "utf-16-le", bom=b"\xff\xfe")
    assert "UTF-16 text" in _failed(extract(folder, mapping=mapping))


def test_excels_utf8_byte_order_mark_is_read(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ZOE, "utf-8", bom=b"\xef\xbb\xbf")
    (student,) = extract(folder, mapping=mapping).of(Dataset.STUDENTS)
    assert (student.mis_id, student.legal_forename) == ("S1", "Zoë")


def test_a_nul_byte_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ",".join(STUDENT_HEADER) + "\nS1,A\x00B,C,2013-03-04,8\n", "utf-8")
    assert "NUL byte" in _failed(extract(folder, mapping=mapping))


def test_a_csv_cut_short_mid_row_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    _csv(folder, ",".join(STUDENT_HEADER) + "\nS1,A,B,2013-03-04,8\nS2,Fore", "utf-8")
    outcome = extract(folder, mapping=mapping).outcomes[Dataset.STUDENTS]
    # The rows before it were read, but the read is not trusted: nobody is disabled.
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "looks cut short" in (outcome.message or "")


# -- names and paths ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../Students", "/etc/passwd", "C:Students", "a\\b", ".."])
def test_a_mapping_file_name_with_a_path_is_refused(tmp_path: Path, name: str) -> None:
    bad = STUDENTS_ONLY.replace('file = "Students"', f"file = {name!r}".replace("'", '"'))
    bad = bad.replace('"a\\b"', '"a\\\\b"')
    path = mapping_file(tmp_path / "bad.toml", bad)
    with pytest.raises(ConfigurationError, match="bare file name"):
        extract(_folder(tmp_path), mapping=str(path))


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    outside = tmp_path / "outside.csv"
    outside.write_text(",".join(STUDENT_HEADER) + "\nS1,A,B,2013-03-04,8\n", encoding="utf-8")
    (folder / "Students.csv").symlink_to(outside)
    assert "link leading out of the folder" in _failed(extract(folder, mapping=mapping))


# -- passwords ------------------------------------------------------------------------------
def test_a_protected_workbook_needs_its_password(tmp_path: Path, mapping: str) -> None:
    folder = _folder(tmp_path)
    rows = [STUDENT_HEADER, *students_rows(2)]
    write_workbook(folder / "Students.xlsx", [("Students", rows[0], rows[1:])], "s3cret-pass")  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match="password-protected"):
        extract(folder, mapping=mapping)
    with pytest.raises(AuthenticationError, match="was refused") as refused:
        extract(folder, mapping=mapping, credentials={"password": "wrong-pass"})
    assert "wrong-pass" not in str(refused.value)
    result = extract(folder, mapping=mapping, credentials={"password": "s3cret-pass"})
    assert [s.mis_id for s in result.of(Dataset.STUDENTS)] == ["S1", "S2"]
