"""The spreadsheet session: the export folder (or workbook), its mapping, its password.

``authenticate`` opens one: the mapping is loaded and checked, and every
password-protected workbook the mapping will read is decrypted once (in memory), so
that a wrong password fails the run before anything is read. Each dataset then streams
its sheets: rows are read in chunks, mapped to source records, and each sheet read to
its end is reported as one whole document.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import structlog

from misbridge.plugin import (
    Dataset,
    ExtractContext,
    PermissionCheck,
    Role,
    Session,
    SourceError,
    SourceFormatError,
    SourceRecord,
    SourceUnavailableError,
)
from misbridge_spreadsheet.csvfile import csv_rows
from misbridge_spreadsheet.files import Located, locate
from misbridge_spreadsheet.mapping import Column, Sheet, SheetMapping, load_mapping
from misbridge_spreadsheet.records import SheetReader
from misbridge_spreadsheet.settings import DATASETS, SpreadsheetConfig
from misbridge_spreadsheet.table import Table
from misbridge_spreadsheet.xlsx import decrypt, is_encrypted, open_workbook, worksheet_rows

__all__ = ["SpreadsheetSession"]

log = structlog.get_logger()


class SpreadsheetSession(Session):
    """An opened export: see the module docstring."""

    def __init__(self, config: SpreadsheetConfig, mapping: SheetMapping) -> None:
        self.config = config
        self.mapping = mapping
        self._plain: dict[Path, bytes] = {}
        # One open workbook per file, shared by its sheets: openpyxl sizes every sheet
        # of a workbook when it opens it, so opening it once per sheet is quadratic.
        self._books: dict[Path, tuple[Any, Any]] = {}
        self._lookups: dict[tuple[Role, str], dict[str, str]] = {}
        self._lookup_lock = asyncio.Lock()
        self.files_read = 0

    @classmethod
    async def open(cls, context: ExtractContext) -> SpreadsheetSession:
        config = SpreadsheetConfig.from_context(context)
        session = cls(config, load_mapping(config.mapping))
        session.unlock()
        return session

    def unlock(self) -> None:
        """Decrypt every password-protected workbook the mapping reads (once)."""
        for sheet in self.mapping.sheets:
            try:
                located = locate(self.config.path, sheet)
            except SourceError:
                continue  # reported by the dataset that reads it, which alone fails
            if located is None or not located.is_workbook or located.path in self._plain:
                continue
            if is_encrypted(located.path):
                self._plain[located.path] = decrypt(
                    located.path, self.config.password, self.config.limits
                )

    async def aclose(self) -> None:
        self._plain.clear()
        books, self._books = self._books, {}
        for book, handle in books.values():
            book.close()
            handle.close()

    # -- tables ----------------------------------------------------------------------------
    def locate(self, sheet: Sheet) -> Located:
        located = locate(self.config.path, sheet)
        if located is None:
            raise SourceUnavailableError(
                f"spreadsheet: {self._where(sheet)}; export it from the MIS into "
                f"{str(self.config.path)!r}",
                dataset=sheet.dataset.value,
            )
        return located

    def _where(self, sheet: Sheet) -> str:
        path = self.config.path
        if path.is_file():
            return f"{path.name} has no sheet {sheet.sheet or sheet.file!r}"
        return f"no file {sheet.file}.csv or {sheet.file}.xlsx in the folder"

    def open_table(self, sheet: Sheet) -> Table:
        located = self.locate(sheet)
        limits = self.config.limits
        self.files_read += 1
        if not located.is_workbook:
            rows = csv_rows(
                located.path,
                encoding=self.config.encoding,
                delimiter=sheet.delimiter,
                limits=limits,
            )
            return Table(located.label, rows, lambda: None, sheet.header_row, text_file=True)
        opened = self._books.get(located.path)
        if opened is None:
            plain = self._plain.get(located.path)
            if plain is None and is_encrypted(located.path):
                plain = decrypt(located.path, self.config.password, limits)
                self._plain[located.path] = plain
            opened = self._books[located.path] = open_workbook(
                located.path, plain=plain, limits=limits, formulas=self.config.formulas
            )
        rows = worksheet_rows(opened[0], located.worksheet, located.label, limits)
        return Table(located.label, rows, lambda: None, sheet.header_row)

    # -- person keys -----------------------------------------------------------------------
    async def lookup(self, role: Role, key: str) -> dict[str, str]:
        """Person key (admission number, UPN, staff code) -> MIS id, from the students'
        (or staff's) own sheets."""
        async with self._lookup_lock:
            found = self._lookups.get((role, key))
            if found is not None:
                return found
            found = {}
            dataset = Dataset.STUDENTS if role is Role.STUDENT else Dataset.STAFF
            for sheet in self.mapping.sheets_for(dataset):
                spec = sheet.columns.get(key)
                if not isinstance(spec, Column):
                    continue
                table = self.open_table(sheet)
                ids, keys = table.position(_column(sheet, "mis_id")), table.position(spec.name)
                if ids is None or keys is None:
                    table.close()
                    continue
                for chunk in table.chunks():
                    for _, cells in chunk:
                        mis_id = cells[ids] if ids < len(cells) else None
                        value = cells[keys] if keys < len(cells) else None
                        if mis_id and value:
                            found.setdefault(value.strip(), mis_id)
                    await asyncio.sleep(0)
            if not found:
                raise SourceFormatError(
                    f"spreadsheet: the mapping names {role.value}s by {key.replace('_', ' ')}, "
                    f"but no {dataset.value} sheet of it has both the MIS id and that column"
                )
            self._lookups[(role, key)] = found
            return found

    # -- datasets: None where the mapping reads no such export -----------------------------
    def _offered(
        self, dataset: Dataset, context: ExtractContext
    ) -> AsyncIterator[SourceRecord] | None:
        return self.records(dataset, context) if self.mapping.sheets_for(dataset) else None

    def years(self, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
        return self._offered(Dataset.YEARS, context)

    def staff(self, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
        return self._offered(Dataset.STAFF, context)

    def students(self, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
        return self._offered(Dataset.STUDENTS, context)

    def groups(self, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
        return self._offered(Dataset.GROUPS, context)

    def assessments(self, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
        return self._offered(Dataset.ASSESSMENTS, context)

    async def records(
        self, dataset: Dataset, context: ExtractContext
    ) -> AsyncIterator[SourceRecord]:
        for sheet in self.mapping.sheets_for(dataset):
            students = staff = None
            if sheet.record in ("membership", "assessment", "marksheet"):
                if sheet.student_key != "mis_id":
                    students = await self.lookup(Role.STUDENT, sheet.student_key)
                if sheet.staff_key != "mis_id":
                    staff = await self.lookup(Role.STAFF, sheet.staff_key)
            table = self.open_table(sheet)
            try:
                reader = SheetReader(
                    sheet,
                    table,
                    term=self.config.term,
                    assessed_on=self.config.assessed_on,
                    students=students,
                    staff=staff,
                )
                for chunk in table.chunks():
                    for record in reader.records(chunk):
                        yield record
                    await asyncio.sleep(0)
                for record in reader.finish():
                    yield record
            finally:
                table.close()
            # The sheet was read to its last row (a workbook's zip directory, or a text
            # file's end): one self-delimiting answer, as a CommandReporter report is.
            context.read(dataset).whole_document(table.label, read=reader.read)
            log.info("spreadsheet.sheet.read", sheet=table.label, records=reader.read)

    # -- pre-flight ------------------------------------------------------------------------
    async def check(self, context: ExtractContext) -> list[PermissionCheck]:
        return self.check_exports(DATASETS)

    def check_exports(self, datasets: tuple[Dataset, ...]) -> list[PermissionCheck]:
        """Per dataset: which exports are missing, or lack a column the mapping reads."""
        checks = []
        for dataset in datasets:
            sheets = self.mapping.sheets_for(dataset)
            if not sheets:
                note = f"the mapping {self.mapping.name!r} reads no {dataset.value}"
                checks.append(PermissionCheck(dataset, notes=(note,)))
                continue
            missing: list[str] = []
            for sheet in sheets:
                missing.extend(self._check_sheet(sheet))
            checks.append(PermissionCheck(dataset, missing=tuple(missing)))
        return checks

    def _check_sheet(self, sheet: Sheet) -> Iterator[str]:
        if locate(self.config.path, sheet) is None:
            yield f"the export {sheet.file!r}: {self._where(sheet)}"
            return
        try:
            table = self.open_table(sheet)
        except (SourceFormatError, SourceUnavailableError) as exc:
            yield f"a readable {sheet.file!r}: {exc.message}"
            return
        try:
            absent = [n for n in sheet.column_names() if table.position(n) is None]
        except SourceFormatError as exc:  # a header that repeats
            yield f"a readable {sheet.file!r}: {exc.message}"
            return
        finally:
            table.close()
        if absent:
            yield f"the columns {', '.join(map(repr, absent))} in {table.label}"


def _column(sheet: Sheet, field: str) -> str:
    spec = sheet.columns.get(field)
    return spec.name if isinstance(spec, Column) else ""
