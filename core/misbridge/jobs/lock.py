"""One run per school at a time: a night that overruns never meets the next one.

The lock is an operating-system file lock (the ``filelock`` package: ``fcntl`` on POSIX,
``msvcrt`` on Windows), released by the system if the process dies, beside a small JSON
note of who holds it, so that the second run can say whom it waits for.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from misbridge.config import home
from misbridge.errors import RunLocked
from misbridge.files import private_folder

__all__ = ["run_lock"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _holder(note: Path) -> dict[str, Any]:
    try:
        data = json.loads(note.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


@contextmanager
def run_lock(school: str, folder: Path | None = None) -> Iterator[None]:
    """Hold the lock of ``school`` for the duration of the block.

    :raises RunLocked: another process holds it (the message says which, since when).
    """
    where = private_folder(folder or home() / "locks")
    name = _UNSAFE.sub("_", school) or "default"
    note = where / f"{name}.json"
    lock = FileLock(where / f"{name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = _holder(note)
        who = (
            f"process {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
            if holder
            else "another process"
        )
        raise RunLocked(
            f"school {school}: another misbridge run holds its lock ({who}); this run did "
            "nothing. Let that run finish, or stop it, then run again",
            holder=holder,
        ) from None
    try:
        note.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "school": school,
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        note.unlink(missing_ok=True)
        lock.release()
