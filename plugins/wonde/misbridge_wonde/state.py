"""When each dataset of a school was last extracted successfully (incremental extracts).

Kept in ``<misbridge home>/state/wonde-<school id>.json``, written only after an extract
in which every dataset asked for was read to its end, atomically (a temporary file then
a rename), so that a failed or interrupted run never moves the mark forward and the next
run never skips a change.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from misbridge.config import home
from misbridge.model import Dataset

__all__ = ["path_for", "read", "write"]

log = structlog.get_logger()


def path_for(school_id: str) -> Path:
    # The school id was checked against [A-Za-z0-9_-] (settings.py): no path tricks.
    return home() / "state" / f"wonde-{school_id}.json"


def read(school_id: str) -> dict[str, datetime]:
    """Per dataset, the moment the next incremental extract asks for changes after."""
    path = path_for(school_id)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        marks = raw["datasets"]
        return {
            str(name): datetime.fromisoformat(value).astimezone(UTC)
            for name, value in marks.items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # A damaged state file only costs a full extract; say so and carry on.
        log.warning("wonde.state_unreadable", path=str(path))
        return {}


def write(school_id: str, when: datetime, datasets: Iterable[Dataset]) -> None:
    path = path_for(school_id)
    marks = {k: v.isoformat() for k, v in read(school_id).items()}
    marks.update({Dataset(d).value: when.astimezone(UTC).isoformat() for d in datasets})
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".wonde-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"school_id": school_id, "datasets": marks}, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
