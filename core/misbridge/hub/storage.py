"""Where uploads (ciphertext only) are kept: a small interface, a filesystem backend.

An object store can be added by implementing :class:`UploadStorage`; the hub only
ever writes at the offset it has recorded (so a chunk written before a crash, but not
recorded, is overwritten by its retry), reads a whole upload as a stream, and deletes.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from misbridge.errors import StoreError

__all__ = ["FileStorage", "UploadStorage"]

_NAME = re.compile(r"upl_[0-9a-f]{24}")
READ_BYTES = 256 * 1024


class UploadStorage(Protocol):
    def write_at(self, name: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset``, dropping anything stored past ``offset`` first."""

    def size(self, name: str) -> int: ...

    def sha256(self, name: str) -> str: ...

    def read(self, name: str) -> Iterator[bytes]: ...

    def delete(self, name: str) -> bool: ...

    def names(self) -> list[str]: ...


class FileStorage:
    """Uploads as owner-only files in one folder (``<root>/<upload id>``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise StoreError(f"{name!r} is not an upload name the hub writes")
        return self.root / name

    def write_at(self, name: str, offset: int, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)  # acknowledged chunks survive a crash of the hub
        finally:
            os.close(fd)

    def size(self, name: str) -> int:
        path = self._path(name)
        return path.stat().st_size if path.exists() else 0

    def sha256(self, name: str) -> str:
        hasher = hashlib.sha256()
        for block in self.read(name):
            hasher.update(block)
        return hasher.hexdigest()

    def read(self, name: str) -> Iterator[bytes]:
        with self._path(name).open("rb") as handle:
            while block := handle.read(READ_BYTES):
                yield block

    def delete(self, name: str) -> bool:
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _NAME.fullmatch(p.name))
