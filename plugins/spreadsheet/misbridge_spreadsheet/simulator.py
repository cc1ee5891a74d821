"""The spreadsheet simulator: a school written out as an MIS's report exports.

``simulator(school)`` writes, in a private temporary folder, one export per sheet of a
mapping (the built-in ``misbridge`` layout unless ``mapping=`` names another) as
``format="workbook"`` (one .xlsx holding a sheet per export: the default),
``"xlsx"`` (one workbook per export) or ``"csv"`` (one UTF-8 file per export). Workbooks
are password-protected (Excel's "Encrypt with Password", ECMA-376 agile encryption,
written with msoffcrypto-tool) unless ``password=None``; CSV files cannot be.

The plugin then reads them through its real code. There is no server: ``app`` is None
and ``requests`` counts the files written. ``deny=[Dataset.STAFF]`` leaves that
dataset's exports out, which is what a spreadsheet has instead of a refused permission.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from misbridge.plugin import Dataset, Fault, LocalSimulator, SourceSchool
from misbridge_spreadsheet.mapping import Sheet, SheetMapping, load_mapping
from misbridge_spreadsheet.render import Value, sheet_rows

__all__ = ["FORMATS", "SpreadsheetSimulator", "simulator", "write_csv", "write_workbook"]

FORMATS = ("workbook", "xlsx", "csv")
_NO_PASSWORD: Any = object()


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_csv(path: Path, header: list[str], rows: list[list[Value]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)


def write_workbook(
    path: Path, sheets: list[tuple[str, list[str], list[list[Value]]]], password: str | None
) -> None:
    """An .xlsx of (sheet name, header, rows), encrypted with ``password`` if given."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, header, rows in sheets:
        sheet = book.create_sheet(name[:31])
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if password is None:
        path.write_bytes(buffer.getvalue())
        return
    from msoffcrypto.format.ooxml import OOXMLFile

    buffer.seek(0)
    with path.open("wb") as out:
        OOXMLFile(buffer).encrypt(password, out)


class SpreadsheetSimulator(LocalSimulator):
    """A school written as exports (see the module docstring)."""

    def __init__(
        self,
        school: SourceSchool,
        *,
        mapping: str = "misbridge",
        format: str = "workbook",
        password: Any = _NO_PASSWORD,
        deny: Collection[Dataset] = (),
        latency: float = 0.0,
        faults: Sequence[Fault] = (),
        **options: Any,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
        if options:
            raise TypeError(f"unknown simulator options: {sorted(options)}")
        if faults:
            raise TypeError("a spreadsheet export has no server to inject faults into")
        # Files have no latency.
        super().__init__(school, deny=deny)
        self.mapping_name = mapping
        self.mapping: SheetMapping = load_mapping(mapping)
        files = [s.sheet or s.file for s in self.mapping.sheets]
        if len(set(files)) != len(files):
            # A report read twice (SIMS's classes: pupils, then teachers) is one cross
            # product in a real export; this simulator writes one table per file.
            raise ValueError(
                f"the simulator cannot write the {mapping!r} layout: it reads a file twice"
            )
        self.format = format
        if password is _NO_PASSWORD:
            password = None if format == "csv" else secrets.token_urlsafe(12)
        if password is not None and format == "csv":
            raise ValueError("a CSV file cannot be password-protected")
        self.password: str | None = password
        self.written: list[Path] = []
        self.write([s for s in self.mapping.sheets if s.dataset not in self.deny])

    @property
    def requests(self) -> int:
        """How many export files were written."""
        return len(self.written)

    @property
    def path(self) -> Path:
        """What the plugin's ``path`` setting names: the workbook, or the folder."""
        return self.folder / "export.xlsx" if self.format == "workbook" else self.folder

    def write(self, sheets: list[Sheet]) -> None:
        tables = [(s, *sheet_rows(s, self.school)) for s in sheets]
        if self.format == "workbook":
            write_workbook(
                self.path, [(s.sheet or s.file, h, r) for s, h, r in tables], self.password
            )
            self.written.append(self.path)
            return
        for sheet, header, rows in tables:
            if self.format == "csv":
                target = self.folder / f"{sheet.file}.csv"
                write_csv(target, header, rows)
            else:
                target = self.folder / f"{sheet.file}.xlsx"
                write_workbook(target, [(sheet.sheet or sheet.file, header, rows)], self.password)
            self.written.append(target)

    def settings(self, base_url: str | None = None) -> dict[str, str]:
        del base_url  # files, not a server
        return {"path": str(self.path), "mapping": self.mapping_name}

    def credentials(self) -> dict[str, str]:
        return {"password": self.password} if self.password else {}

    def wrong_credentials(self) -> Mapping[str, str]:
        # Only a password-protected workbook can refuse anything (see the plugin docs).
        return {"password": self.password + "-wrong"} if self.password else {}


def simulator(school: SourceSchool, **options: Any) -> SpreadsheetSimulator:
    """The simulator, for callers that name the factory."""
    return SpreadsheetSimulator(school, **options)
