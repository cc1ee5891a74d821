"""Checkpoints kept under the misbridge home, for runs without a sync store.

With a store, checkpoints live in it and move on in the transaction that applies the
sync that used them. Without one, they are kept here, per MIS and school, and move on
only after the run's files were written. A damaged file costs one full read, never a
missed change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import structlog

from misbridge.config import home
from misbridge.files import atomic_write_json
from misbridge.model import Dataset
from misbridge.reads import Checkpoint

__all__ = ["FileCheckpoints"]

log = structlog.get_logger()


class FileCheckpoints:
    """``<home>/state/checkpoints-<mis>-<school hash>.json``."""

    def __init__(self, mis: str, school: str, folder: Path | None = None) -> None:
        self.mis = mis
        self.school = school
        digest = hashlib.sha256(f"{mis}\x1f{school}".encode()).hexdigest()[:16]
        self.path = (folder or home() / "state") / f"checkpoints-{mis}-{digest}.json"

    def load(self) -> dict[Dataset, Checkpoint]:
        import json

        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            marks = raw["datasets"]
            return {Dataset(name): Checkpoint.from_dict(mark) for name, mark in marks.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("checkpoints.unreadable", path=str(self.path))
            return {}

    def save(self, marks: Mapping[Dataset, Checkpoint]) -> None:
        if not marks:
            return
        current = {d.value: c.as_dict() for d, c in self.load().items()}
        current.update({d.value: c.as_dict() for d, c in marks.items()})
        atomic_write_json(self.path, {"mis": self.mis, "school": self.school, "datasets": current})
