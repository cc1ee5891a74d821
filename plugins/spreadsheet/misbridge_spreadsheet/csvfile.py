"""Reading one CSV export safely: size caps, strict decoding, a wrong encoding refused.

A CSV carries no encoding of its own. Decoding is strict, so a file that is not in the
declared encoding is refused with the line and a hint, never read as mojibake; and a
file declared as a one-byte encoding (cp1252, latin-1) that is in fact UTF-8 is refused
too, since every byte decodes in cp1252 and "Zoë" would silently become "ZoÃ«".
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

from misbridge.plugin import SourceFormatError
from misbridge_spreadsheet.settings import Limits

__all__ = ["csv_rows"]

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 1 << 20


def _family(encoding: str) -> str:
    return codecs.lookup(encoding).name  # "utf-8", "cp1252", "utf-16"...


def _looks_utf8(path: Path) -> bool:
    """Whether the file is valid UTF-8 and holds something beyond ASCII."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    beyond_ascii = False
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            beyond_ascii = beyond_ascii or not chunk.isascii()
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return beyond_ascii


def _check_encoding(path: Path, encoding: str) -> str:
    family = _family(encoding)
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith(_UTF16_BOMS) and not family.startswith("utf-16"):
        raise SourceFormatError(
            f"spreadsheet: {path.name} is UTF-16 text ('Unicode text' from Excel), not "
            f"{encoding}: set encoding = utf-16, or save it as 'CSV UTF-8'"
        )
    if family == "utf-8":
        return "utf-8-sig"  # Excel's "CSV UTF-8" starts with a byte-order mark
    if not family.startswith("utf-") and _looks_utf8(path):
        raise SourceFormatError(
            f"spreadsheet: {path.name} is UTF-8 text, but the encoding is set to {encoding}: "
            "its accented names would be read wrongly; set encoding = utf-8"
        )
    return encoding


def _first_bad_line(path: Path, encoding: str) -> tuple[int, int]:
    """The line and byte where decoding first fails (the text reader only knows its chunk)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                return number, exc.object[exc.start]
    return 0, 0


def csv_rows(
    path: Path, *, encoding: str, delimiter: str | None, limits: Limits
) -> Iterator[list[str | None]]:
    """Every row of the file, cells as text (blank cells as None)."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise SourceFormatError(
            f"spreadsheet: {path.name} is {size:,} bytes, over the {limits.max_bytes:,}-byte "
            "cap; raise max_file_bytes if this export really is that large"
        )
    actual = _check_encoding(path, encoding)
    sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    with path.open(encoding=actual, errors="strict", newline="") as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        try:
            for row in reader:
                if reader.line_num > limits.max_rows + 1:
                    raise SourceFormatError(
                        f"spreadsheet: {path.name} has more than {limits.max_rows:,} rows; "
                        "raise max_rows if this export really is that long"
                    )
                if len(row) > limits.max_columns:
                    raise SourceFormatError(
                        f"spreadsheet: {path.name} line {reader.line_num} has {len(row):,} "
                        f"columns, over the {limits.max_columns:,} cap"
                    )
                cells: list[str | None] = []
                for number, cell in enumerate(row, start=1):
                    if "\x00" in cell:
                        raise SourceFormatError(
                            f"spreadsheet: {path.name} line {reader.line_num}, column {number} "
                            "holds a NUL byte: this is not a text export (binary, or damaged?)"
                        )
                    if len(cell) > limits.max_cell_chars:
                        raise SourceFormatError(
                            f"spreadsheet: {path.name} line {reader.line_num}, column {number} "
                            f"holds over {limits.max_cell_chars:,} characters, more than any "
                            "Excel cell can; this is not an export"
                        )
                    cells.append(cell if cell.strip() else None)
                yield cells
        except UnicodeDecodeError:
            line, byte = _first_bad_line(path, actual)
            raise SourceFormatError(
                f"spreadsheet: {path.name} is not {encoding} text (byte 0x{byte:02X} on line "
                f"{line}); if Excel saved it as plain 'CSV', set encoding = cp1252, or save it "
                "as 'CSV UTF-8'"
            ) from None
        except csv.Error as exc:
            raise SourceFormatError(
                f"spreadsheet: {path.name} line {reader.line_num} is not valid CSV ({exc}); "
                "export it again"
            ) from None
