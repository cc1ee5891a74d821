"""An extract's output folder: one JSON Lines file per dataset, errors and summary.

Layout of ``--out DIR``::

    DIR/years.jsonl, staff.jsonl, students.jsonl, groups.jsonl, ...
        one line per accepted record: {"type": "Student", "record": {...}}
    DIR/summary.json   per-dataset outcomes and counts (no personal data)
    DIR/errors.jsonl, errors.csv, report.html   every RecordError (misbridge.report)

Files are written to a temporary name and renamed when the extract ends, so a folder
never holds a half-written dataset under its final name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from misbridge.convert import from_plain, to_plain, type_named
from misbridge.errors import RecordError
from misbridge.model import Dataset, Deletion
from misbridge.reads import Checkpoint
from misbridge.result import DatasetOutcome, ExtractResult, ModelRecord, OutcomeStatus

__all__ = ["JsonlSink", "read_extract", "write_extract_files"]


class JsonlSink:
    """A :class:`~misbridge.pipeline.RecordSink` writing ``<dataset>.jsonl`` files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._files: dict[Dataset, IO[bytes]] = {}

    def write(self, dataset: Dataset, record: ModelRecord | Deletion) -> None:
        handle = self._files.get(dataset)
        if handle is None:
            path = self.folder / f".{dataset.value}.jsonl.part"
            handle = self._files[dataset] = _private_open(path)
        line = {"type": type(record).__name__, "record": to_plain(record)}
        # The same bytes as json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        # in UTF-8 (records hold text, ints, booleans and None, never floats), at a
        # fifth of its cost: one line per record of every school, every night.
        handle.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> list[Path]:
        """Close every file and move it to its final name."""
        done = []
        for dataset, handle in self._files.items():
            handle.close()
            final = self.folder / f"{dataset.value}.jsonl"
            os.replace(self.folder / f".{dataset.value}.jsonl.part", final)
            done.append(final)
        self._files.clear()
        return done


def _private_open(path: Path) -> IO[bytes]:
    # Pupils' data: owner-only from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


def write_extract_files(
    result: ExtractResult,
    folder: Path,
    *,
    errors: Sequence[RecordError] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``summary.json`` and, through :func:`misbridge.report.write_reports`, the
    error files (records were streamed by the sink). ``errors`` and ``summary`` default
    to the extract's own; a run passes its own, with the store's processing errors."""
    from misbridge.report import write_reports

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    summary = dict(summary if summary is not None else result.summary())
    errors = list(errors if errors is not None else result.errors)
    summary_path = folder / "summary.json"
    with _private_open(summary_path) as handle:
        handle.write(json.dumps(summary, indent=2).encode("utf-8"))
    return [summary_path, *write_reports(errors, summary, folder)]


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{path.name} line {number} is not JSON: {exc}") from None


def read_extract(folder: Path) -> ExtractResult:
    """Read an extract folder back into an :class:`ExtractResult` (records included)."""
    from datetime import datetime

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    result = ExtractResult(
        mis=summary["mis"],
        started=datetime.fromisoformat(summary["started"]),
        finished=datetime.fromisoformat(summary["finished"]) if summary.get("finished") else None,
        school=summary.get("school"),
        lacks=frozenset(summary.get("lacks", ())),
        checkpoints={
            Dataset(name): Checkpoint.from_dict(mark)
            for name, mark in (summary.get("checkpoints") or {}).items()
        },
    )
    for name, data in summary["datasets"].items():
        dataset = Dataset(name)
        result.outcomes[dataset] = DatasetOutcome(
            dataset,
            OutcomeStatus(data["status"]),
            data.get("records", 0),
            data.get("rejected", 0),
            data.get("message"),
            # Extract folders written before 0.2 called a delta "incremental".
            delta=data.get("delta", data.get("incremental", False)),
            deletions=data.get("deletions", 0),
        )
        path = folder / f"{name}.jsonl"
        if path.exists():
            for line in _lines(path):
                record: Any = from_plain(line["record"], type_named(line["type"]))
                if isinstance(record, Deletion):
                    result.deletions.setdefault(dataset, []).append(record)
                else:
                    result.records.setdefault(dataset, []).append(record)
    errors_path = folder / "errors.jsonl"
    if errors_path.exists():
        result.errors = [RecordError.from_dict(line) for line in _lines(errors_path)]
    return result
