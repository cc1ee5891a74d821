"""CSV files and the zip for upload.

Files are RFC 4180 CSV (comma, double quotes doubled, CRLF line ends), UTF-8 without a
byte-order mark, the header row first. Values are written exactly as held: no
spreadsheet formula escaping (:mod:`misbridge.report.csvsafe`), because these files are
read by machines, which would keep a protective apostrophe as part of a pupil's name.
Line breaks never reach a field (:func:`misbridge.export.rules.line_safe`).

Everything is written owner-only (pupils' data), to a temporary name and then renamed,
so a folder never holds a half-written file. The zip is deterministic: the same files
give the same bytes (fixed timestamps and order).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from attrs import define, field

__all__ = ["Package", "Table", "read_csv", "read_package", "write_package", "write_private"]

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@define
class Table:
    """One CSV file: its name (``users.csv``), header and rows (every value text)."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(factory=list)

    def add(self, values: Mapping[str, str | None]) -> None:
        """Append a row from ``values`` by column name (missing or None: blank)."""
        unknown = set(values) - set(self.header)
        if unknown:
            raise ValueError(f"{self.name}: no column {sorted(unknown)}")
        self.rows.append(tuple(values.get(c) or "" for c in self.header))

    def text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue()


@define
class Package:
    """The files of one export, in the order they are written."""

    tables: list[Table] = field(factory=list)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def files(self) -> dict[str, bytes]:
        return {t.name: t.text().encode("utf-8") for t in self.tables}


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``: owner-only, whole or not at all."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def write_package(
    package: Package, folder: Path, zip_path: Path, known: Iterable[str] = ()
) -> list[Path]:
    """Write each table into ``folder`` and all of them into ``zip_path``.

    Files named in ``known`` but not in the package (left from an earlier export whose
    set of files differed) are removed from ``folder``, so that it always matches the zip.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    zip_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = package.files()
    for stale in set(known) - set(files):
        (folder / stale).unlink(missing_ok=True)
    written = []
    for name, data in files.items():
        write_private(folder / name, data)
        written.append(folder / name)
    write_private(zip_path, _zip(files))
    return [*written, zip_path]


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Rows of one CSV file by column name (a leading byte-order mark is ignored)."""
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def read_package(path: Path) -> dict[str, list[dict[str, str]]]:
    """Every CSV file of an export (a zip or a folder), parsed: ``{"users.csv": rows}``."""
    found: dict[str, bytes] = {}
    if path.is_dir():
        found = {p.name: p.read_bytes() for p in sorted(path.glob("*.csv"))}
    else:
        with zipfile.ZipFile(path) as archive:
            found = {n: archive.read(n) for n in archive.namelist() if n.endswith(".csv")}
    return {name: read_csv(data) for name, data in found.items()}
