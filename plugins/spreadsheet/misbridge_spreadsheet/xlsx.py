"""Reading one XLSX workbook safely.

Before openpyxl sees a byte, the workbook is checked as a zip: the number of parts, each
part's uncompressed size and compression ratio, and their total (the zip-bomb checks;
Python's zipfile never inflates a part past its declared size, so the declared sizes
bound what is read). Part names that climb out of the archive are refused. A
password-protected workbook (an encrypted OOXML package) is decrypted in memory with
msoffcrypto-tool; a wrong password is an :class:`~misbridge.errors.AuthenticationError`.

openpyxl then reads in read-only mode (rows stream, one at a time), with defusedxml's
parsers (no DTDs, entities or external references) and without links, macros or
pivot caches. Formulas are never evaluated: by default a formula cell refuses its file;
with ``formulas = cached`` the value Excel last calculated is read instead. Excel error
values (``#N/A``) refuse their file in both modes.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from misbridge.plugin import AuthenticationError, Secret, SourceFormatError
from misbridge_spreadsheet.settings import Limits

__all__ = ["cell_text", "decrypt", "is_encrypted", "open_workbook", "worksheet_rows"]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_SMALL_PART = 1 << 20  # parts this small may compress well without being bombs


def is_encrypted(path: Path) -> bool:
    """Whether the file is an OLE compound file (a password-protected workbook)."""
    with path.open("rb") as handle:
        return handle.read(8) == _OLE


def _size_check(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise SourceFormatError(
            f"spreadsheet: {path.name} is {size:,} bytes, over the {limits.max_bytes:,}-byte "
            "cap; raise max_file_bytes if this workbook really is that large"
        )


def decrypt(path: Path, password: Secret | None, limits: Limits) -> bytes:
    """The plain workbook inside a password-protected one."""
    import msoffcrypto
    from msoffcrypto.exceptions import DecryptionError, FileFormatError, InvalidKeyError

    _size_check(path, limits)
    if password is None:
        raise AuthenticationError(
            f"spreadsheet: {path.name} is password-protected: give its password with "
            "'misbridge credentials set spreadsheet' or MISBRIDGE_SPREADSHEET_PASSWORD"
        )
    with path.open("rb") as handle:
        try:
            office = msoffcrypto.OfficeFile(handle)
            if office.format != "ooxml" or not office.is_encrypted():
                raise SourceFormatError(
                    f"spreadsheet: {path.name} is an Excel 97-2003 (or other OLE) file, not an "
                    "XLSX workbook: save it as .xlsx or as 'CSV UTF-8'"
                )
            office.load_key(password=password.reveal(), verify_password=True)
            out = io.BytesIO()
            office.decrypt(out)
        except InvalidKeyError:
            raise AuthenticationError(
                f"spreadsheet: the password for {path.name} was refused; check it with whoever "
                "protected the workbook and store it again"
            ) from None
        except (DecryptionError, FileFormatError, ValueError, KeyError, OSError) as exc:
            raise SourceFormatError(
                f"spreadsheet: {path.name} could not be decrypted ({type(exc).__name__}): is it "
                "a password-protected Excel workbook?"
            ) from None
    return out.getvalue()


def _check_zip(handle: IO[bytes], name: str, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise SourceFormatError(
            f"spreadsheet: {name} is not a readable XLSX workbook (damaged, cut short, or "
            "not a workbook at all); export it again"
        ) from None
    if len(parts) > limits.max_members:
        raise SourceFormatError(
            f"spreadsheet: {name} holds {len(parts):,} parts; a workbook has a few dozen: refused"
        )
    total = 0
    for part in parts:
        pure = PurePosixPath(part.filename.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or "\x00" in part.filename:
            raise SourceFormatError(
                f"spreadsheet: {name} holds a part named {part.filename[:80]!r} that climbs out "
                "of the archive: refused"
            )
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > _SMALL_PART and ratio > limits.max_ratio:
            raise SourceFormatError(
                f"spreadsheet: {name} is refused as a zip bomb: its part {part.filename[:80]!r} "
                f"inflates {ratio:,.0f} times (the cap is {limits.max_ratio})"
            )
        if total > limits.max_bytes:
            raise SourceFormatError(
                f"spreadsheet: {name} inflates to over {limits.max_bytes:,} bytes: refused as a "
                "zip bomb; raise max_file_bytes if this workbook really is that large"
            )


def open_workbook(
    path: Path, *, plain: bytes | None, limits: Limits, formulas: str
) -> tuple[Any, IO[bytes]]:
    """The openpyxl read-only workbook and the handle it reads (close both)."""
    import openpyxl

    if plain is None:
        _size_check(path, limits)
        handle: IO[bytes] = path.open("rb")
        if handle.read(4) != _ZIP:
            handle.close()
            raise SourceFormatError(
                f"spreadsheet: {path.name} is not an XLSX workbook (no zip signature); "
                "export it again as .xlsx or as 'CSV UTF-8'"
            )
        handle.seek(0)
    else:
        handle = io.BytesIO(plain)
    try:
        _check_zip(handle, path.name, limits)
        handle.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot use
            book = openpyxl.load_workbook(
                handle,
                read_only=True,
                data_only=formulas == "cached",
                keep_links=False,
                keep_vba=False,
            )
    except SourceFormatError:
        handle.close()
        raise
    except Exception as exc:  # openpyxl raises many types for a malformed part
        handle.close()
        raise SourceFormatError(
            f"spreadsheet: {path.name} is not a workbook openpyxl can read safely "
            f"({type(exc).__name__}); export it again"
        ) from None
    return book, handle


def cell_text(value: object) -> str | None:
    """A cell's value as the text a CSV export of it would hold."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def worksheet_rows(
    book: Any, worksheet: str | None, label: str, limits: Limits
) -> Iterator[list[str | None]]:
    """Every row of one worksheet, cells as text (blank cells as None)."""
    names = list(book.sheetnames)
    if worksheet is None:
        sheet = book.worksheets[0]
    else:
        match = [n for n in names if n.casefold() == worksheet.casefold()]
        if not match:
            raise SourceFormatError(
                f"spreadsheet: {label}: the workbook has no sheet {worksheet!r} (it has "
                f"{', '.join(repr(n) for n in names[:20])})"
            )
        sheet = book[match[0]]
    if not hasattr(sheet, "reset_dimensions"):
        raise SourceFormatError(f"spreadsheet: {label} is a chart, not a worksheet")
    # A worksheet's declared size can lie: rows are sized by their own cells instead.
    sheet.reset_dimensions()
    for number, row in enumerate(sheet.iter_rows(), start=1):
        if number > limits.max_rows + 1:
            raise SourceFormatError(
                f"spreadsheet: {label} has more than {limits.max_rows:,} rows; raise max_rows "
                "if this export really is that long"
            )
        if len(row) > limits.max_columns:
            raise SourceFormatError(
                f"spreadsheet: {label} row {number} reaches column {len(row):,}, over the "
                f"{limits.max_columns:,} cap"
            )
        cells: list[str | None] = []
        for cell in row:
            value = cell.value
            if value is None:
                cells.append(None)
                continue
            kind = getattr(cell, "data_type", "n")
            if kind == "f":
                raise SourceFormatError(
                    f"spreadsheet: {label} cell {cell.coordinate} holds a formula, which misbridge "
                    "never evaluates: paste the column as values, export again, or set "
                    "formulas = cached to read the value Excel last calculated"
                )
            if kind == "e":
                raise SourceFormatError(
                    f"spreadsheet: {label} cell {cell.coordinate} holds an Excel error value "
                    f"({str(value)[:12]}): correct it and save again"
                )
            text = cell_text(value)
            if text is not None and len(text) > limits.max_cell_chars:
                raise SourceFormatError(
                    f"spreadsheet: {label} cell {cell.coordinate} holds over "
                    f"{limits.max_cell_chars:,} characters, more than any Excel cell can"
                )
            cells.append(text)
        yield cells
