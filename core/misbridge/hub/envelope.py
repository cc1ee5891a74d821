"""The sealed extract: an extract folder as one archive, sealed to the integrator that asked.

Layout (one file, any size, read and written as a stream)::

    <header: one line of JSON>\\n
    <segment 0> <segment 1> ... <segment n, the last>
    segment = 4-byte big-endian length || ChaCha20-Poly1305 ciphertext of up to 1 MiB

- A fresh 256-bit content key is sealed with HPKE (RFC 9180, the vault's suite:
  DHKEM-X25519-HKDF-SHA256, HKDF-SHA256, ChaCha20-Poly1305) to the integrator's X25519
  public key, with ``info = misbridge/hub|extract|<request>|<school>|<kid>|1``: an
  envelope moved to another request, school or key does not open.
- The archive is encrypted with that key in segments (the STREAM construction of
  Hoang, Reyhanitabar, Rogaway and Vizár, as Tink's streaming AEAD and age use it):
  segment i's nonce is i as 11 bytes || 1 byte "last segment" flag, and every
  segment's associated data is the SHA-256 of the header line. Reordered, dropped,
  repeated or cut-off segments, or a changed header, fail to decrypt. Memory stays
  bounded at one segment on both sides.

The archive is a gzip'd tar of the folder's top-level regular files (datasets'
``.jsonl``, ``summary.json``, error files), written with fixed owner, mode and time.
Unpacking accepts only such files, by name, never a path, a link or a device.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from misbridge.errors import MisbridgeError
from misbridge.vault.sealing import SUITE_NAME, hpke_open, hpke_seal

__all__ = [
    "FORMAT",
    "EnvelopeError",
    "extract_info",
    "open_envelope",
    "pack_folder",
    "seal_envelope",
    "seal_folder",
    "unpack_archive",
]

FORMAT = "misbridge-extract/1"
SEGMENT_BYTES = 1024 * 1024
_TAG = 16
_MAX_HEADER = 4096
_FILE = re.compile(r"[a-z0-9_]{1,64}\.(jsonl|json|csv|html)")
_MAX_MEMBER = 4 * 1024**3


class EnvelopeError(MisbridgeError):
    """A sealed extract that does not open: wrong key or context, altered, or cut short."""


def extract_info(request_id: str, school_id: str, kid: str) -> bytes:
    return f"misbridge/hub|extract|{request_id}|{school_id}|{kid}|1".encode()


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _segments(source: IO[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    current = source.read(size)
    while True:
        following = source.read(size)
        yield current, not following
        if not following:
            return
        current = following


def seal_envelope(
    source: IO[bytes],
    target: IO[bytes],
    public_key: X25519PublicKey,
    *,
    request_id: str,
    school_id: str,
    kid: str,
    segment_bytes: int = SEGMENT_BYTES,
) -> None:
    """Write the envelope of everything ``source`` holds to ``target``."""
    content_key = ChaCha20Poly1305.generate_key()
    sealed_key = hpke_seal(content_key, public_key, extract_info(request_id, school_id, kid))
    header = {
        "format": FORMAT,
        "suite": SUITE_NAME,
        "stream": "STREAM-ChaCha20Poly1305",
        "request": request_id,
        "school": school_id,
        "kid": kid,
        "segment_bytes": segment_bytes,
        "key": base64.b64encode(sealed_key).decode("ascii"),
    }
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"
    target.write(line)
    aad = hashlib.sha256(line).digest()
    aead = ChaCha20Poly1305(content_key)
    for index, (plain, last) in enumerate(_segments(source, segment_bytes)):
        sealed = aead.encrypt(_nonce(index, last), plain, aad)
        target.write(len(sealed).to_bytes(4, "big") + sealed)


def read_header(source: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    line = source.readline(_MAX_HEADER + 1)
    if not line.endswith(b"\n") or len(line) > _MAX_HEADER:
        raise EnvelopeError("this is not a sealed misbridge extract (no header line)")
    try:
        header = json.loads(line)
    except ValueError:
        raise EnvelopeError("the sealed extract's header is damaged") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise EnvelopeError("this is not a sealed misbridge extract of a version we read")
    if header.get("suite") != SUITE_NAME:
        raise EnvelopeError("the sealed extract uses a cipher suite misbridge does not accept")
    return header, line


def open_envelope(
    source: IO[bytes],
    target: IO[bytes],
    private_key: X25519PrivateKey,
    *,
    request_id: str,
    school_id: str,
    kid: str,
) -> dict[str, Any]:
    """Decrypt an envelope made for this request, school and key into ``target``."""
    header, line = read_header(source)
    if (header.get("request"), header.get("school"), header.get("kid")) != (
        request_id,
        school_id,
        kid,
    ):
        raise EnvelopeError(
            "this sealed extract was made for another request, school or key "
            f"(it names request {str(header.get('request'))[:40]!r})"
        )
    try:
        sealed_key = base64.b64decode(str(header.get("key", "")), validate=True)
        size = int(header["segment_bytes"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise EnvelopeError("the sealed extract's header is damaged") from None
    try:
        content_key = hpke_open(sealed_key, private_key, extract_info(request_id, school_id, kid))
    except MisbridgeError:
        raise EnvelopeError(
            "the sealed extract does not open with this key (another key, or altered)"
        ) from None
    aead = ChaCha20Poly1305(content_key)
    aad = hashlib.sha256(line).digest()
    index = 0
    while True:
        length_bytes = source.read(4)
        if len(length_bytes) != 4:
            raise EnvelopeError("the sealed extract is cut short (its last segment is missing)")
        length = int.from_bytes(length_bytes, "big")
        if length < _TAG or length > size + _TAG:
            raise EnvelopeError(f"segment {index} of the sealed extract is damaged")
        sealed = source.read(length)
        if len(sealed) != length:
            raise EnvelopeError("the sealed extract is cut short")
        try:
            plain, last = aead.decrypt(_nonce(index, False), sealed, aad), False
        except InvalidTag:
            try:
                plain, last = aead.decrypt(_nonce(index, True), sealed, aad), True
            except InvalidTag:
                raise EnvelopeError(
                    f"segment {index} of the sealed extract was altered, moved or replaced"
                ) from None
        target.write(plain)
        index += 1
        if last:
            break
    if source.read(1):
        raise EnvelopeError("the sealed extract has data after its last segment")
    return header


def _members(folder: Path) -> list[Path]:
    found = (p for p in folder.iterdir() if _FILE.fullmatch(p.name))
    return sorted(p for p in found if p.is_file() and not p.is_symlink())


def pack_folder(folder: Path, target: IO[bytes]) -> list[str]:
    """A gzip'd tar of the extract folder's files into ``target``; returns their names."""
    names = []
    with tarfile.open(fileobj=target, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path in _members(folder):
            info = tarfile.TarInfo(path.name)
            info.size = path.stat().st_size
            info.mode = 0o600
            info.mtime = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                archive.addfile(info, handle)
            names.append(path.name)
    return names


def unpack_archive(source: IO[bytes], folder: Path) -> list[str]:
    """Unpack an archive made by :func:`pack_folder` into ``folder`` (owner-only files)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    names: list[str] = []
    try:
        with tarfile.open(fileobj=source, mode="r:gz") as archive:
            for member in archive:
                if not member.isreg() or not _FILE.fullmatch(member.name):
                    raise EnvelopeError(
                        f"the extract archive holds {member.name[:60]!r}, which is not an "
                        "extract file; nothing more was unpacked"
                    )
                if member.size > _MAX_MEMBER:
                    raise EnvelopeError(f"{member.name} in the extract archive is too large")
                handle = archive.extractfile(member)
                assert handle is not None  # a regular file always has content
                fd = os.open(folder / member.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while block := handle.read(1024 * 1024):
                        out.write(block)
                names.append(member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise
        raise EnvelopeError(f"the extract archive is damaged ({type(exc).__name__})") from None
    return names


def seal_folder(
    folder: Path,
    target: IO[bytes],
    public_key: X25519PublicKey,
    *,
    request_id: str,
    school_id: str,
    kid: str,
    work_dir: Path | None = None,
) -> list[str]:
    """Pack and seal an extract folder; the clear archive lives only in an unnamed
    temporary file (in ``work_dir``), deleted when closed."""
    with tempfile.TemporaryFile(dir=work_dir) as clear:
        names = pack_folder(folder, clear)
        clear.seek(0)
        seal_envelope(
            clear, target, public_key, request_id=request_id, school_id=school_id, kid=kid
        )
    return names
