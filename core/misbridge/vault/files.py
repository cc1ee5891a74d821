"""Owner-only files: written atomically, never a moment wider than 0600, checked on read.

Every secret-bearing file the vault keeps (private keys, the passphrase file, sealed
blobs, the vault settings) goes through :func:`write_private` and :func:`read_private`:

- the temporary file is created with ``O_CREAT | O_EXCL`` and mode 0600, so it is
  owner-only from its first byte (the umask can only narrow that), then written,
  fsynced, and swapped into place with ``os.replace`` (readers see the old or the new
  file, never half of one); the folder is fsynced so the rename survives a power cut;
- a file is refused on read when group or others have any permission bit, or when it
  belongs to another user, the way ssh refuses a private key.

On Windows mode bits mean nothing; see docs/vault.md for what to do there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from misbridge.vault.errors import KeyFileError

__all__ = [
    "MAX_FILE_BYTES",
    "check_private",
    "exclusive_lock",
    "make_private_dir",
    "read_private",
    "remove_private",
    "write_private",
]

#: No file the vault writes comes near this; a bigger one is not ours.
MAX_FILE_BYTES = 1024 * 1024

_POSIX = os.name == "posix"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700 where it does not exist yet."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if _POSIX:
        os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    if not _POSIX:
        return
    fd = os.open(path, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, owner-only (0600) from the first byte."""
    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def check_private(path: Path, st: os.stat_result, what: str) -> None:
    """Refuse a file that others can use, naming the file and the fix."""
    if not _POSIX:
        return
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"the {what} {path} has permissions {mode:04o}; it must be readable by its "
            f"owner only. Run 'chmod 600 {path}', and as others may have read it, "
            "rotate the keys with 'misbridge rotate-keys'",
            path=str(path),
            mode=f"{mode:04o}",
        )
    if st.st_uid != os.geteuid():
        raise KeyFileError(
            f"the {what} {path} belongs to user id {st.st_uid}, not to the user running "
            "misbridge; run misbridge as the account that activated it",
            path=str(path),
        )


def read_private(path: Path, what: str) -> bytes | None:
    """The bytes of an owner-only file; None if it does not exist.

    The checks are made on the open descriptor, so the file cannot be swapped between
    the check and the read; symbolic links are refused.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileError(
            f"the {what} {path} could not be opened ({exc.strerror}); it must be a regular "
            "file owned by this user, not a symbolic link",
            path=str(path),
        ) from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"the {what} {path} is not a regular file", path=str(path))
        check_private(path, st, what)
        if st.st_size > MAX_FILE_BYTES:
            raise KeyFileError(f"the {what} {path} is too large to be ours", path=str(path))
        return handle.read(MAX_FILE_BYTES + 1)


def remove_private(path: Path) -> bool:
    """Overwrite a file with zeros, then delete it; False if it was not there.

    Overwriting is best effort (journaling and copy-on-write filesystems and SSDs may
    keep old blocks); what makes a removed key unusable is removing its passphrase too.
    """
    try:
        size = path.lstat().st_size
    except FileNotFoundError:
        return False
    if path.is_file() and not path.is_symlink():
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_WRONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
            try:
                os.write(fd, b"\0" * size)
                os.fsync(fd)
            finally:
                os.close(fd)
    path.unlink(missing_ok=True)
    return True


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (released by the OS if we crash).

    Seal, remove and rotate take it, so a rotation never overwrites credentials that
    ``credentials set`` wrote a moment earlier.
    """
    make_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _CLOEXEC, 0o600)
    try:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
