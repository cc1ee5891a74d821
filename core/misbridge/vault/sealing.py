"""Sealing: HPKE (RFC 9180) bound to its context, in a small authenticated envelope.

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, base mode (see
docs/decisions/070-vault-hpke.md). HPKE's ``info`` carries the whole context::

    misbridge/vault|<purpose>|<mis>|<school or empty>|<key id>|<schema version>

so a blob sealed for one MIS, school or key opens for no other: the recipient rebuilds
``info`` from what *it* expects, never from what the blob claims.

Base-mode HPKE is sender-anonymous: anyone holding the public key could seal a blob. A
remote blob store could therefore swap in credentials of its choosing. Sealing happens
on this machine, so the envelope is also MACed with a key derived from the private key
(HMAC-SHA256 over the canonical header and ciphertext); only this installation can make
a blob it will accept.

Envelope (UTF-8 JSON, one object)::

    {"format": 1, "suite": "...", "purpose": "mis-credentials", "schema": 1,
     "mis": "wonde", "school": null, "kid": "9f3c...", "sealed_at": "...Z",
     "fields": ["api_token"], "ct": "<base64 enc||ciphertext>", "mac": "<base64>"}

The clear header fields are what ``credentials list`` shows without unsealing; the MAC
covers every one of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from attrs import frozen
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from misbridge.vault.errors import UnsealError, VaultError

__all__ = [
    "FORMAT_VERSION",
    "MAX_BLOB_BYTES",
    "MAX_PLAINTEXT_BYTES",
    "PURPOSE_CREDENTIALS",
    "SCHEMA_VERSION",
    "SUITE_NAME",
    "Context",
    "Header",
    "blob_name",
    "hpke_open",
    "hpke_seal",
    "mac_key",
    "open_blob",
    "parse_blob_name",
    "read_header",
    "seal_blob",
]

FORMAT_VERSION = 1
SCHEMA_VERSION = 1
PURPOSE_CREDENTIALS = "mis-credentials"
SUITE_NAME = "HPKE-base/DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305"
MAX_PLAINTEXT_BYTES = 64 * 1024
MAX_BLOB_BYTES = 256 * 1024

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305)
_MIS = re.compile(r"[a-z0-9_]{1,64}")
_SCHOOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_KID = re.compile(r"[0-9a-f]{16}")
_SUFFIX = ".sealed"


def check_mis(mis: str) -> str:
    if not _MIS.fullmatch(mis):
        raise VaultError(
            f"{mis!r} is not a valid MIS name for the vault: use lower-case letters, digits "
            "and '_' only (as in 'wonde')",
            mis=mis,
        )
    return mis


def check_school(school: str | None) -> str | None:
    if school is not None and not _SCHOOL.fullmatch(school):
        raise VaultError(
            f"{school!r} is not a valid school id for the vault: use the URN, DfE number "
            "or MIS school id (letters, digits, '-', '_', '.'; up to 128 characters)",
            school=school,
        )
    return school


def blob_name(mis: str, school: str | None) -> str:
    """``<mis>.sealed`` or ``<mis>-<school>.sealed`` (MIS names never hold '-')."""
    check_mis(mis)
    check_school(school)
    return f"{mis}-{school}{_SUFFIX}" if school else f"{mis}{_SUFFIX}"


def parse_blob_name(name: str) -> tuple[str, str | None] | None:
    """(mis, school) for a blob name, or None for a name the vault did not write."""
    if not name.endswith(_SUFFIX):
        return None
    stem = name[: -len(_SUFFIX)]
    mis, _, school = stem.partition("-")
    if not _MIS.fullmatch(mis) or (school and not _SCHOOL.fullmatch(school)):
        return None
    return mis, school or None


@frozen
class Context:
    """What a sealed blob is bound to; every part goes into HPKE ``info``."""

    mis: str
    school: str | None
    kid: str
    purpose: str = PURPOSE_CREDENTIALS
    schema: int = SCHEMA_VERSION

    def info(self) -> bytes:
        check_mis(self.mis)
        check_school(self.school)
        if not _KID.fullmatch(self.kid):
            raise VaultError(f"{self.kid!r} is not a key id", kid=self.kid)
        # No part can hold '|' (checked above), so the encoding is unambiguous.
        parts = ["misbridge/vault", self.purpose, self.mis, self.school or "", self.kid]
        return ("|".join(parts) + f"|{self.schema}").encode("ascii")


@frozen
class Header:
    """The clear part of an envelope (authenticated, not secret)."""

    kid: str
    mis: str
    school: str | None
    purpose: str
    schema: int
    sealed_at: str
    fields: tuple[str, ...]


def hpke_seal(plaintext: bytes, public_key: X25519PublicKey, info: bytes) -> bytes:
    """``enc || ciphertext`` for ``plaintext`` under ``public_key`` and ``info``."""
    return _SUITE.encrypt(plaintext, public_key, info=info)


def hpke_open(sealed: bytes, private_key: X25519PrivateKey, info: bytes) -> bytes:
    """Open what :func:`hpke_seal` made; :class:`UnsealError` for anything else."""
    try:
        return _SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError):
        raise UnsealError(
            "the sealed data did not open with this key and context (wrong key, another "
            "MIS or school, or altered)"
        ) from None


def mac_key(private_key: X25519PrivateKey, kid: str) -> bytes:
    """The envelope MAC key: derived from the private key, so it never leaves either."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"misbridge/vault|envelope-mac|" + kid.encode("ascii"),
    ).derive(private_key.private_bytes_raw())


def _canonical(header: dict[str, Any]) -> bytes:
    body = {k: v for k, v in header.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _mac(key: bytes, header: dict[str, Any]) -> str:
    digest = hmac.new(key, _canonical(header), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def seal_blob(
    plaintext: bytes,
    private_key: X25519PrivateKey,
    context: Context,
    *,
    fields: Sequence[str] = (),
    now: datetime | None = None,
) -> bytes:
    """The envelope for ``plaintext``, sealed to the public half of ``private_key``."""
    if len(plaintext) > MAX_PLAINTEXT_BYTES:
        raise VaultError(f"there is too much to seal (more than {MAX_PLAINTEXT_BYTES} bytes)")
    sealed = hpke_seal(plaintext, private_key.public_key(), context.info())
    header: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "suite": SUITE_NAME,
        "purpose": context.purpose,
        "schema": context.schema,
        "mis": context.mis,
        "school": context.school,
        "kid": context.kid,
        "sealed_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fields": list(fields),
        "ct": base64.b64encode(sealed).decode("ascii"),
    }
    header["mac"] = _mac(mac_key(private_key, context.kid), header)
    return json.dumps(header, indent=1).encode("utf-8") + b"\n"


def _load(blob: bytes) -> dict[str, Any]:
    if len(blob) > MAX_BLOB_BYTES:
        raise UnsealError("the sealed blob is larger than any the vault writes")
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnsealError(
            "the sealed blob is not a vault envelope (cut short or damaged)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise UnsealError(
            "the sealed blob is not a vault envelope of a version this misbridge reads"
        )
    if data.get("suite") != SUITE_NAME:
        raise UnsealError("the sealed blob uses a cipher suite this misbridge does not accept")
    return data


def read_header(blob: bytes) -> Header:
    """The envelope's clear header, NOT yet authenticated: for listing and key lookup."""
    data = _load(blob)
    try:
        fields = data.get("fields", [])
        header = Header(
            kid=str(data["kid"]),
            mis=str(data["mis"]),
            school=None if data.get("school") is None else str(data["school"]),
            purpose=str(data["purpose"]),
            schema=int(data["schema"]),
            sealed_at=str(data.get("sealed_at", "")),
            fields=tuple(str(f) for f in fields) if isinstance(fields, list) else (),
        )
    except (KeyError, TypeError, ValueError):
        raise UnsealError("the sealed blob's header is incomplete or damaged") from None
    if not _KID.fullmatch(header.kid):
        raise UnsealError("the sealed blob names no valid key id")
    return header


def open_blob(blob: bytes, private_key: X25519PrivateKey, expected: Context) -> bytes:
    """The plaintext of an envelope, if and only if it is intact and for ``expected``.

    Checked in order: envelope shape, claimed context against ``expected``, MAC (constant
    time), then HPKE with ``info`` rebuilt from ``expected``. Every failure is an
    :class:`UnsealError` whose message carries no secret.
    """
    data = _load(blob)
    header = read_header(blob)
    if (header.mis, header.school, header.kid, header.purpose, header.schema) != (
        expected.mis,
        expected.school,
        expected.kid,
        expected.purpose,
        expected.schema,
    ):
        raise UnsealError(
            "the sealed blob was made for another MIS, school or key "
            f"(it says MIS {header.mis!r}, school {header.school!r}, key {header.kid})"
        )
    given = data.get("mac")
    want = _mac(mac_key(private_key, expected.kid), data)
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), want.encode()):
        raise UnsealError("the sealed blob was altered, or was not made by this installation")
    try:
        sealed = base64.b64decode(str(data.get("ct", "")), validate=True)
    except (binascii.Error, ValueError):
        raise UnsealError("the sealed blob's ciphertext is damaged") from None
    return hpke_open(sealed, private_key, expected.info())
