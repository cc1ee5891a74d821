"""Vendors' rate limits, shared by every worker through Redis.

A rule gives a vendor host a rate (requests a second) and says whether the vendor
counts per application token (each token its own budget) or per host. Each request
takes the next *slot* of its key with one atomic Redis script (the generic cell rate
algorithm): slots are ``1/rate`` seconds apart, whichever worker asks, on whatever
machine, timed by the Redis server's clock. A request whose slot is later waits for it:
a school that meets the limit slows down, it does not fail. A 429 with ``Retry-After``
pauses the key for everyone until then.

Set a rule somewhat under the vendor's published limit: a request leaves a little
after its slot (scheduling, the network), never before it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from attrs import frozen

from misbridge.errors import ConfigurationError

__all__ = ["RateRule", "RedisRateLimiter", "parse_rule"]

_SLOT = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', key) or '0')
local pause = tonumber(redis.call('GET', key .. ':pause') or '0')
local slot = math.max(tat, now, pause)
local ttl = math.ceil((slot + interval - now) / 1000) + 60000
redis.call('SET', key, string.format('%.0f', slot + interval), 'PX', ttl)
return string.format('%.0f', slot - now)
"""

_PAUSE = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', key .. ':pause') or '0')
if until_ > current then
  redis.call('SET', key .. ':pause', string.format('%.0f', until_), 'PX',
             math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"""

_RULE = re.compile(r"(?P<host>[A-Za-z0-9.-]+(?::\d+)?)=(?P<rate>\d+(?:\.\d+)?)(?P<token>/token)?")


@frozen
class RateRule:
    """At most ``per_second`` requests a second to ``host`` (per token if ``per_token``)."""

    host: str
    per_second: float
    per_token: bool = False


def parse_rule(text: str) -> RateRule:
    """``api.wonde.com=8/token`` (8 a second per token) or ``host:port=20`` (per host)."""
    match = _RULE.fullmatch(text.strip())
    if match is None or float(match["rate"]) <= 0:
        raise ConfigurationError(
            f"a rate limit is HOST=REQUESTS_PER_SECOND, with /token when the vendor counts "
            f"per application (api.wonde.com=8/token), not {text[:80]!r}"
        )
    return RateRule(match["host"].lower(), float(match["rate"]), bool(match["token"]))


class RedisRateLimiter:
    """The :class:`misbridge.http.RateLimiter` of workers: slots kept in Redis."""

    def __init__(self, url: str, rules: tuple[RateRule, ...], *, prefix: str = "misbridge:rl:"):
        import redis.asyncio as redis

        self.rules = {r.host: r for r in rules}
        self.prefix = prefix
        self._redis: Any = redis.Redis.from_url(url)
        self._slot = self._redis.register_script(_SLOT)
        self._pause = self._redis.register_script(_PAUSE)
        self.waited = 0.0  # seconds this limiter made requests wait (for the bench)

    def _key(self, host: str, token: str) -> tuple[str, RateRule] | None:
        rule = self.rules.get(host.lower())
        if rule is None:
            return None
        return f"{self.prefix}{rule.host}" + (f"|{token}" if rule.per_token else ""), rule

    async def acquire(self, host: str, token: str) -> None:
        found = self._key(host, token)
        if found is None:
            return
        key, rule = found
        interval = int(1_000_000 / rule.per_second)
        wait = int(await self._slot(keys=[key], args=[interval])) / 1_000_000
        if wait > 0:
            self.waited += wait
            await asyncio.sleep(wait)

    async def pause(self, host: str, token: str, seconds: float) -> None:
        found = self._key(host, token)
        if found is not None:
            await self._pause(keys=[found[0]], args=[int(seconds * 1_000_000)])

    async def aclose(self) -> None:
        await self._redis.aclose()
