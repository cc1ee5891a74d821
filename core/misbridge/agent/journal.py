"""What this agent did, on disk, so that a restart loses nothing and repeats nothing.

- ``requests/<id>.json``: one request's progress (``claiming`` → ``claimed`` →
  ``extracting`` → ``sealed`` → ``uploaded``, or ``failed``), with the Integrator's
  process id and the sealed file's size and SHA-256. Never a token or a key: after a
  restart the agent asks the hub for a new Integrator Token.
- ``ledger.jsonl``: one line per extract provided (or purge asked for): when, to which
  hub, for whom, which datasets, how many records, the sealed size and hash. This is
  what ``misbridge agent status`` shows. It holds no personal data.

A request with a journal entry is never processed again by this agent, however often
the hub mentions it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from misbridge.errors import ConfigurationError
from misbridge.vault.files import make_private_dir, read_private, write_private

__all__ = ["FINISHED", "Journal"]

FINISHED = ("uploaded", "failed", "gone")
_REQUEST = re.compile(r"req_[0-9a-f]{24}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests = folder / "requests"
        self.work = folder / "work"
        self.ledger = folder / "ledger.jsonl"

    def _path(self, request_id: str) -> Path:
        if not _REQUEST.fullmatch(request_id):
            raise ConfigurationError(f"{request_id[:40]!r} is not a request id from a hub")
        return self.requests / f"{request_id}.json"

    def work_dir(self, request_id: str) -> Path:
        self._path(request_id)
        path = self.work / request_id
        for folder in (self.folder, self.work, path):
            make_private_dir(folder)
        return path

    def get(self, request_id: str) -> dict[str, Any] | None:
        raw = read_private(self._path(request_id), "agent journal entry")
        return None if raw is None else dict(json.loads(raw))

    def put(self, request_id: str, **values: Any) -> dict[str, Any]:
        entry = {**(self.get(request_id) or {"request_id": request_id}), **values}
        entry["updated_at"] = _now()
        for folder in (self.folder, self.requests):
            make_private_dir(folder)
        write_private(self._path(request_id), json.dumps(entry, sort_keys=True).encode())
        return entry

    def forget(self, request_id: str) -> None:
        """Drop the entry of a request that was never claimed."""
        self._path(request_id).unlink(missing_ok=True)

    def unfinished(self) -> list[dict[str, Any]]:
        if not self.requests.is_dir():
            return []
        found = []
        for path in sorted(self.requests.glob("req_*.json")):
            entry = self.get(path.stem)
            if entry is not None and entry.get("state") not in FINISHED:
                found.append(entry)
        return found

    def record(self, event: str, **values: Any) -> None:
        make_private_dir(self.folder)
        line = json.dumps({"at": _now(), "event": event, **values}, sort_keys=True) + "\n"
        existing = read_private(self.ledger, "agent ledger") or b""
        write_private(self.ledger, existing + line.encode())

    def entries(self) -> Iterator[dict[str, Any]]:
        raw = read_private(self.ledger, "agent ledger")
        for line in (raw or b"").decode().splitlines():
            if line.strip():
                yield json.loads(line)
