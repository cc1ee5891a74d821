"""Bearer secrets the hub hands out, and how it keeps them: as digests only.

Every token is 256 random bits (``secrets.token_urlsafe(32)``) behind a prefix that
names its kind, so a token pasted into the wrong place is recognised and refused:

- ``mbu_`` an integrator user's API token;      ``mbs_`` a web session (cookie only);
- ``mba_`` an agent's own hub token;            ``mbi_`` an Integrator Token (one request);
- ``mbr_`` a retrieval key (one upload);          ``mbw_`` a Celery worker's token.

Activation codes are shorter, typed by a person: 26 base32 letters (130 bits) in
groups. The hub stores the SHA-256 of each, never the value (for random values of this
size a fast digest is as good as a slow one). Passwords for the web pages are scrypt
hashes (the standard library's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = [
    "KINDS",
    "digest",
    "hash_password",
    "kind_of",
    "new_activation_code",
    "new_id",
    "new_token",
    "normalise_code",
    "verify_password",
]

KINDS = {
    "user": "mbu_",
    "session": "mbs_",
    "agent": "mba_",
    "integrator": "mbi_",
    "retrieval": "mbr_",
    "worker": "mbw_",
}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_PASSWORD = 1024


def new_token(kind: str) -> str:
    return KINDS[kind] + secrets.token_urlsafe(32)


def kind_of(token: str) -> str | None:
    for kind, prefix in KINDS.items():
        if token.startswith(prefix):
            return kind
    return None


def new_id(prefix: str) -> str:
    """An opaque id (not a secret) such as ``req_3x9...``: 96 random bits."""
    return f"{prefix}_{secrets.token_hex(12)}"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_activation_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(20)).decode("ascii")[:26]
    return "-".join(raw[i : i + 5] for i in range(0, 26, 5))


def normalise_code(code: str) -> str:
    """The code as generated, whatever case, spaces or dashes a person typed."""
    letters = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(letters[i : i + 5] for i in range(0, len(letters), 5))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    raw = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    parts = [str(_SCRYPT[k]) for k in ("n", "r", "p")]
    salt_b64 = base64.b64encode(salt).decode()
    return "$".join(["scrypt", *parts, salt_b64, base64.b64encode(raw).decode()])


def verify_password(password: str, stored: str | None) -> bool:
    if stored is None or len(password) > MAX_PASSWORD:
        return False
    try:
        scheme, n, r, p, salt, want = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            dklen=32,
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(want))
