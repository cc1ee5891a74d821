"""Files for the spreadsheet tests: exports written the way an MIS or Excel writes them,
and hand-built XLSX packages for what no writer would produce (hostile files)."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import ExtractResult

_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_DOC}"><sheets><sheet name="{{name}}" sheetId="1" r:id="rId1"/></sheets>'
    "</workbook>"
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>{doctype}'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}'
    "<sheetData>{rows}</sheetData></worksheet>"
)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(ref: str, value: object) -> str:
    """A cell: text inline, numbers as numbers, ("f", formula, cached) a formula,
    ("e", "#N/A") an error value."""
    if isinstance(value, tuple) and value[0] == "f":
        cached = f"<v>{escape(str(value[2]))}</v>" if value[2] is not None else ""
        return f'<c r="{ref}" t="str"><f>{escape(value[1])}</f>{cached}</c>'
    if isinstance(value, tuple) and value[0] == "e":
        return f'<c r="{ref}" t="e"><v>{escape(value[1])}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def rows_xml(rows: Sequence[Sequence[object]], first_row: int = 1) -> str:
    out = []
    for r, row in enumerate(rows, start=first_row):
        cells = "".join(
            cell_xml(f"{column_letter(c)}{r}", v) for c, v in enumerate(row) if v is not None
        )
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def hand_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]] = (),
    *,
    sheet_name: str = "Sheet1",
    sheet_xml: str | None = None,
    doctype: str = "",
    dimension: str = "",
    extra: Mapping[str, bytes] = {},
    padding: int = 0,
) -> Path:
    """A minimal XLSX package written by hand (what no spreadsheet program would write)."""
    body = sheet_xml or SHEET.format(doctype=doctype, dimension=dimension, rows=rows_xml(rows))
    if padding:
        body = body.replace("<sheetData>", "<sheetData>" + " " * padding, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK.format(name=escape(sheet_name)))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", body)
        for name, data in extra.items():
            archive.writestr(name, data)
    return path


STUDENT_HEADER = ["Student ID", "Legal Forename", "Legal Surname", "Date of Birth", "NC Year"]


def students_rows(count: int = 3) -> list[list[object]]:
    return [
        [f"S{i}", f"Forename{i}", f"Surname{i}", "2013-03-04", "8"] for i in range(1, count + 1)
    ]


def mapping_file(path: Path, sheets: str) -> Path:
    path.write_text('[mapping]\ntitle = "test"\n\n' + sheets, encoding="utf-8")
    return path


STUDENTS_ONLY = """
[[sheets]]
record = "student"
file = "Students"
[sheets.columns]
mis_id = "Student ID"
legal_forename = "Legal Forename"
legal_surname = "Legal Surname"
date_of_birth = "Date of Birth"
year_group = "NC Year"
"""


def extract(
    path: Path,
    datasets: Iterable[Dataset] = (Dataset.STUDENTS,),
    credentials: Mapping[str, str] | None = None,
    **settings: Any,
) -> ExtractResult:
    return asyncio.run(
        extract_async(
            "spreadsheet",
            settings={"path": str(path), **settings},
            credentials=dict(credentials or {}),
            datasets=list(datasets),
        )
    )
