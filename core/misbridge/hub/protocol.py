"""What the hub, its agents and integrator clients agree on, with no web framework.

The agent imports this module (and :mod:`misbridge.hub.envelope`) without the
``misbridge[hub]`` extra: a school's machine needs only misbridge's core.
docs/hub-protocol.md describes every message.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE_STATES",
    "API",
    "FINISHED_STATES",
    "HEADER_OFFSET",
    "HEADER_RETRIEVAL_KEY",
    "PROTOCOL_VERSION",
    "STATES",
    "agent_token_info",
    "content_digest",
    "is_loopback",
    "parse_content_digest",
]

import base64
import binascii
import hashlib
import ipaddress

PROTOCOL_VERSION = 1
API = "/api/v1"

#: An extract request's life: pending -> claimed (an agent took it) -> extracting (its
#: MIS login succeeded and it holds an Integrator Token) -> uploading -> ready (sealed
#: upload complete, integrator notified) -> acknowledged (retrieved, upload deleted).
#: Or failed, expired (nobody acknowledged in time: purged) or purged (the school asked).
STATES = (
    "pending",
    "claimed",
    "extracting",
    "uploading",
    "ready",
    "acknowledged",
    "failed",
    "expired",
    "purged",
)
ACTIVE_STATES = ("pending", "claimed", "extracting", "uploading")
FINISHED_STATES = ("acknowledged", "failed", "expired", "purged")

HEADER_OFFSET = "Upload-Offset"
HEADER_RETRIEVAL_KEY = "Retrieval-Key"


def agent_token_info(agent_id: str, school_id: str, kid: str) -> bytes:
    """HPKE ``info`` of the agent token the hub seals to an agent's key at activation."""
    return f"misbridge/hub|agent-token|{agent_id}|{school_id}|{kid}|{PROTOCOL_VERSION}".encode()


def content_digest(data: bytes) -> str:
    """An RFC 9530 ``Content-Digest`` value for ``data`` (SHA-256)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + ":"


def parse_content_digest(value: str | None) -> bytes | None:
    """The SHA-256 in a ``Content-Digest`` header, or None if it carries none."""
    if not value:
        return None
    for part in value.split(","):
        name, _, rest = part.strip().partition("=")
        if name.strip().lower() == "sha-256" and rest.startswith(":") and rest.endswith(":"):
            try:
                raw = base64.b64decode(rest[1:-1], validate=True)
            except (binascii.Error, ValueError):
                return None
            return raw if len(raw) == 32 else None
    return None


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): the only
    places plain HTTP is allowed to or from."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
