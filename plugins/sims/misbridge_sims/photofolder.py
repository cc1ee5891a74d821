"""A folder of exported photos, read without trusting a name or a file in it.

Schools whose SIMS report designer has no photo field export their pupils' pictures
to a folder, one file per person, named by admission number (staff by staff code) or
by SIMS Person ID. Nothing from SIMS ever becomes a path: the folder is listed once, and
each person's key is looked up in that listing. Each file is then opened without
following a symbolic link, checked to be a regular file of at most ``max_bytes`` from
the open descriptor (so it cannot be swapped in between), and its first bytes are read
before the rest: a file that is not a JPEG, PNG or GIF is handed on as those few bytes
only, for the normaliser to report (MB6001), never read whole.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from attrs import frozen

from misbridge.plugin import ConfigurationError, sniff_media_type

__all__ = ["PHOTO_EXTENSIONS", "PhotoFile", "PhotoFolder", "photo_key"]

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".gif"})
#: Enough for every signature sniff_media_type knows.
_HEAD = 16
_MAX_ENTRIES = 200_000
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)


def photo_key(value: str) -> str:
    """How a file name and a SIMS value are compared: case and surrounding spaces do not
    count, nor leading zeros of a number ("001234" is admission number 1234)."""
    key = value.strip().casefold()
    if key.isdigit():
        key = key.lstrip("0") or "0"
    return key


@frozen
class PhotoFile:
    """What was read for one person: the bytes, or why the file was refused."""

    name: str
    data: bytes | None = None
    refused: str | None = None


class PhotoFolder:
    """The listing of one photo folder; :meth:`take` reads a person's file at most once."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._index: dict[str, list[str]] = {}
        self.other_files = 0
        self._list()

    def _list(self) -> None:
        try:
            entries = os.scandir(self.folder)
        except OSError as exc:
            raise ConfigurationError(
                f"sims: the photo folder {str(self.folder)!r} cannot be read "
                f"({exc.strerror}); set --photo-folder to the folder of exported photos",
                setting="photo_folder",
            ) from None
        with entries:
            for count, entry in enumerate(entries):
                if count >= _MAX_ENTRIES:
                    raise ConfigurationError(
                        f"sims: the photo folder {str(self.folder)!r} holds more than "
                        f"{_MAX_ENTRIES:,} entries; point --photo-folder at the photo export",
                        setting="photo_folder",
                    )
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() not in PHOTO_EXTENSIONS or not stem:
                    self.other_files += 1
                    continue
                self._index.setdefault(photo_key(stem), []).append(entry.name)

    def take(self, key: str) -> PhotoFile | None:
        """The file for ``key`` (None: there is none); several files for one key, or an
        unsafe file, come back refused."""
        names = self._index.pop(photo_key(key), None)
        if not names:
            return None
        if len(names) > 1:
            listed = ", ".join(repr(n) for n in sorted(names)[:4])
            return PhotoFile(names[0], refused=f"several files ({listed}): keep one")
        return self._read(names[0])

    def unmatched(self) -> Iterator[str]:
        """Photo files no one's key named (a leaver's, a misspelt name)."""
        for names in self._index.values():
            yield from names

    def _read(self, name: str) -> PhotoFile:
        if os.sep in name or (os.altsep and os.altsep in name) or name in (".", ".."):
            return PhotoFile(name, refused="its name is not a plain file name")
        path = self.folder / name
        try:
            if os.path.islink(path):  # also where O_NOFOLLOW does not exist
                return PhotoFile(name, refused="it is a symbolic link")
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return PhotoFile(name, refused="it is a symbolic link")
            return PhotoFile(name, refused=f"it cannot be opened ({exc.strerror})")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return PhotoFile(name, refused="it is not a regular file")
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > self.max_bytes:
                return PhotoFile(name, refused=self._too_large(info.st_size))
            head = handle.read(_HEAD)
            if sniff_media_type(head) is None:
                return PhotoFile(name, data=head)  # the normaliser reports it (MB6001)
            data = head + handle.read(self.max_bytes + 1 - len(head))
            if len(data) > self.max_bytes:  # it grew while being read
                return PhotoFile(name, refused=self._too_large(len(data)))
        return PhotoFile(name, data=data)

    def _too_large(self, size: int) -> str:
        return f"it is {size:,} bytes, over the {self.max_bytes:,}-byte cap (max_photo_bytes)"
