"""The one HTTP client every web-API plugin uses: retries, deadlines, limits, safety.

One retry layer only (stamina, at the request level; the transport never retries):

- 429 and 5xx answers, transport errors and timeouts are retried with exponential
  backoff and full jitter, up to ``HttpPolicy.attempts``;
- ``Retry-After`` (seconds or an HTTP date) is honoured up to ``max_retry_after``;
  a longer wait fails at once with :class:`~misbridge.errors.RateLimitedError` rather
  than being silently shortened;
- each request, body included, has a wall-clock deadline (httpx's read timeout is per
  chunk and does not bound a slow-drip answer);
- requests in flight never exceed the connection pool (a semaphore of the same size);
- bodies are read with a byte cap; a 200 answer that is not JSON (a maintenance page)
  is an error, never an empty school;
- requests go only to the hosts the plugin allows: a ``next`` link or redirect to
  another host is refused before a byte (or the token) is sent there;
- where a :data:`rate_limiter` is set (the integrator's workers share one through
  Redis), each attempt first waits for its slot (:mod:`misbridge.http.ratelimit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.http.policy import RETRY_STATUSES, HttpPolicy, http_settings, parse_retry_after
from misbridge.http.ratelimit import RateLimiter, rate_limiter

if TYPE_CHECKING:
    from misbridge.http.client import MisHttpClient

__all__ = [
    "RETRY_STATUSES",
    "HttpPolicy",
    "MisHttpClient",
    "RateLimiter",
    "http_settings",
    "parse_retry_after",
    "rate_limiter",
]


def __getattr__(name: str) -> Any:
    # The client (httpx, stamina) is imported when first used: a plugin's settings name
    # http_settings() and HttpPolicy, and every process loads every plugin's settings.
    if name == "MisHttpClient":
        from misbridge.http.client import MisHttpClient

        return MisHttpClient
    raise AttributeError(f"module 'misbridge.http' has no attribute {name!r}")
