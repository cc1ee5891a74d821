"""Finding a mapping's files in the export folder (or its sheets in one workbook).

Names from a mapping are never joined onto a path: the folder is listed and its entries
compared by name, so a mapping cannot reach outside the folder, and an entry that is a
link leading out of it is refused.
"""

from __future__ import annotations

from pathlib import Path

from attrs import frozen

from misbridge.plugin import SourceFormatError, SourceUnavailableError
from misbridge_spreadsheet.mapping import Sheet

__all__ = ["CSV_SUFFIXES", "WORKBOOK_SUFFIXES", "Located", "locate"]

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
_UNREADABLE = {
    ".xls": "an Excel 97-2003 workbook",
    ".ods": "an OpenDocument spreadsheet",
    ".numbers": "an Apple Numbers file",
}


@frozen
class Located:
    """One table: the file, the worksheet in it (None: the first) and how to name it."""

    path: Path
    worksheet: str | None
    label: str

    @property
    def is_workbook(self) -> bool:
        return self.path.suffix.lower() in WORKBOOK_SUFFIXES


def _inside(root: Path, entry: Path) -> bool:
    try:
        return entry.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except OSError:
        return False


def _entries(root: Path) -> list[Path]:
    try:
        return sorted(root.iterdir())
    except OSError as exc:
        raise SourceUnavailableError(
            f"spreadsheet: the folder {str(root)!r} cannot be listed ({exc.strerror or exc})"
        ) from None


def locate(root: Path, sheet: Sheet) -> Located | None:
    """Where ``sheet`` is, or None when the export holds no such file (or worksheet)."""
    if root.is_file():
        if root.suffix.lower() not in WORKBOOK_SUFFIXES:
            raise SourceFormatError(
                f"spreadsheet: {root.name} is not a workbook (.xlsx); give a folder of CSV "
                "files, or the workbook itself"
            )
        worksheet = sheet.sheet or sheet.file
        return Located(root, worksheet, f"{root.name}, sheet {worksheet!r}")
    wanted = sheet.file.casefold()
    found: list[Path] = []
    for entry in _entries(root):
        if entry.stem.casefold() != wanted or entry.name.startswith("."):
            continue
        suffix = entry.suffix.lower()
        if suffix in _UNREADABLE:
            raise SourceFormatError(
                f"spreadsheet: {entry.name} is {_UNREADABLE[suffix]}, which misbridge does not "
                "read: save it as an Excel workbook (.xlsx) or as 'CSV UTF-8'"
            )
        if suffix in CSV_SUFFIXES or suffix in WORKBOOK_SUFFIXES:
            found.append(entry)
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise SourceFormatError(
            f"spreadsheet: the folder holds {names} for the export {sheet.file!r}: keep one"
        )
    path = found[0]
    if not _inside(root, path) or not path.is_file():
        raise SourceFormatError(
            f"spreadsheet: {path.name} is not a plain file inside {str(root)!r} (a link "
            "leading out of the folder?); copy the export itself into the folder"
        )
    label = path.name + (f", sheet {sheet.sheet!r}" if sheet.sheet else "")
    return Located(path, sheet.sheet, label)
