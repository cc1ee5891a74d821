"""How hard the HTTP client tries: :class:`HttpPolicy`, its ``http_*`` settings, and
``Retry-After``."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from misbridge.hooktypes import ExtractContext, SettingField

__all__ = ["HttpPolicy", "http_settings", "parse_retry_after"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@frozen
class HttpPolicy:
    """Limits for one MIS client; every figure is a setting, not a constant."""

    attempts: int = 6
    wait_initial: float = 0.5
    wait_max: float = 30.0
    max_retry_after: float = 900.0
    request_deadline: float = 120.0
    timeout: float = 30.0
    concurrency: int = 8
    max_body_bytes: int = 256 * 1024 * 1024

    @classmethod
    def from_context(cls, context: ExtractContext) -> HttpPolicy:
        """The run's ``http_*`` settings: the typed values the core parsed (with the
        plugin's own defaults from :func:`http_settings`), over any text given."""
        return cls.from_settings({**context.settings, **context.values})

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HttpPolicy:
        """Read ``http_*`` values (typed, or text as the command line gives them)."""
        base = cls()
        kwargs: dict[str, Any] = {}
        for name, *_ in _POLICY_FIELDS:
            raw = settings.get(f"http_{name}")
            if raw not in (None, ""):
                kind = type(getattr(base, name))
                kwargs[name] = kind(raw)
        return cls(**kwargs)


#: (HttpPolicy field, help, minimum, maximum) of every ``http_*`` setting.
_POLICY_FIELDS: tuple[tuple[str, str, float, float], ...] = (
    ("concurrency", "requests in flight at once", 1, 64),
    ("attempts", "attempts per request on 429, 5xx and network faults", 1, 100),
    ("wait_initial", "first wait (seconds) between attempts, doubled each time", 0, 60),
    ("wait_max", "longest wait (seconds) between attempts", 0, 600),
    ("max_retry_after", "longest Retry-After (seconds) waited before giving up", 0, 86400),
    ("request_deadline", "seconds one whole request, body included, may take", 0.01, 3600),
    ("timeout", "seconds without a byte before a connection is given up", 0.01, 600),
    ("max_body_bytes", "largest answer accepted, in bytes", 1024, 2**34),
)


def http_settings(**defaults: float) -> tuple[SettingField, ...]:
    """The ``http_*`` settings every web-API plugin offers, typed and bounded, with this
    plugin's own defaults (``http_settings(attempts=8)``) over :class:`HttpPolicy`'s."""
    from misbridge.hooktypes import SettingField

    base = HttpPolicy()
    unknown = set(defaults) - {name for name, *_ in _POLICY_FIELDS}
    if unknown:
        raise TypeError(f"not HttpPolicy fields: {sorted(unknown)}")
    fields = []
    for name, help_text, low, high in _POLICY_FIELDS:
        default = defaults.get(name, getattr(base, name))
        kind = type(getattr(base, name))
        fields.append(
            SettingField(
                f"http_{name}",
                f"{help_text} (default {default:g})",
                default=f"{default:g}" if kind is float else str(int(default)),
                kind=kind,
                minimum=low,
                maximum=high,
            )
        )
    return tuple(fields)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # "¹".isdigit() is true, float("¹") fails
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())
