"""The error files a run leaves for the data manager: JSON Lines, CSV and HTML.

Only :class:`~misbridge.errors.RecordError` fields go in (identifiers, the failing
field's name, the code and message) plus the run's counts: no other record data.
Files are written whole to a temporary name, then renamed, and readable by the owner
only, because the identifiers are still a pupil's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from misbridge.errors import RecordError
from misbridge.report.csvsafe import neutralise
from misbridge.report.html import render_html

__all__ = ["COLUMNS", "error_rows", "write_reports"]

COLUMNS = (
    "dataset",
    "mis",
    "mis_id",
    "record_label",
    "field",
    "code",
    "severity",
    "stage",
    "message",
)


def error_rows(errors: Sequence[RecordError]) -> list[dict[str, Any]]:
    """Each error as a plain dict with exactly :data:`COLUMNS`."""
    rows = []
    for error in errors:
        data = error.as_dict()
        rows.append({column: data.get(column) for column in COLUMNS})
    return rows


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(neutralise("" if row[c] is None else str(row[c])) for c in COLUMNS)
    return buffer.getvalue()


def write_reports(
    errors: Sequence[RecordError], summary: Mapping[str, Any], out_dir: Path
) -> list[Path]:
    """Write ``errors.jsonl``, ``errors.csv`` and ``report.html`` into ``out_dir``
    (created if needed); returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = error_rows(errors)
    return [
        _write(out_dir / "errors.jsonl", _jsonl(rows)),
        # utf-8-sig: Excel reads a CSV as UTF-8 only when it starts with a BOM.
        _write(out_dir / "errors.csv", _csv(rows), encoding="utf-8-sig"),
        _write(out_dir / "report.html", render_html(rows, summary)),
    ]
