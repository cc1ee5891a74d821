"""Vendor rate limits shared by every process sending to a host (the integrator's workers).

Where :data:`rate_limiter` is set (a worker sets one backed by Redis:
:class:`misbridge.worker.ratelimit.RedisRateLimiter`), each attempt of a
:class:`~misbridge.http.MisHttpClient` first waits for its slot under the vendor host's
limit (and its token's), and a 429's ``Retry-After`` pauses every worker sending to that
host.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Mapping
from typing import Protocol

__all__ = ["RateLimiter", "fingerprint", "rate_limiter"]


class RateLimiter(Protocol):
    """Shared request slots per vendor host (and per token where the vendor limits each
    application)."""

    async def acquire(self, host: str, token: str) -> None:
        """Wait for this request's slot (``token`` is a fingerprint, never the secret)."""

    async def pause(self, host: str, token: str, seconds: float) -> None:
        """The vendor answered 429 with ``Retry-After``: nobody sends there until then."""


#: The limiter every :class:`~misbridge.http.MisHttpClient` of this context uses.
rate_limiter: contextvars.ContextVar[RateLimiter | None] = contextvars.ContextVar(
    "misbridge_rate_limiter", default=None
)


def fingerprint(headers: Mapping[str, str], auth: object) -> str:
    """Which application's token a client sends, as a short digest (never the token)."""
    material = "|".join(
        f"{k.lower()}={v}"
        for k, v in sorted(headers.items())
        if k.lower() in ("authorization", "applicationid", "x-mis-application-id")
    )
    if isinstance(auth, tuple):
        material += "|basic=" + str(auth[0])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]
