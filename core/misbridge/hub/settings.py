"""The hub's settings: every limit and lifetime is a setting, with an environment name.

``misbridge hub serve`` reads them from its options, each of which also has a
``MISBRIDGE_HUB_*`` environment variable (see docs/hub.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from attrs import field, frozen

from misbridge.errors import ConfigurationError

__all__ = ["HubSettings"]


def _positive(instance: object, attribute: object, value: float) -> None:
    if value <= 0:
        name = getattr(attribute, "name", "setting")
        raise ConfigurationError(f"the hub setting {name} must be above 0 (got {value})")


@frozen
class HubSettings:
    """Where the hub keeps its data, and how long everything lives."""

    database_url: str = "sqlite:///misbridge-hub.db"
    #: Uploads (ciphertext only) are kept under this folder.
    storage_path: Path = field(default=Path("misbridge-hub-uploads"), converter=Path)
    #: The hub's Ed25519 key that signs webhooks (made, owner-only, on first start).
    key_path: Path = field(default=Path("misbridge-hub-signing.key"), converter=Path)
    #: How long a long poll is held open before the hub answers "nothing yet".
    poll_hold_seconds: float = field(default=50.0, validator=_positive)
    #: How often the hub looks for requests another hub process created, and for expiries.
    sweep_seconds: float = field(default=2.0, validator=_positive)
    integrator_token_seconds: float = field(default=900.0, validator=_positive)
    retrieval_key_seconds: float = field(default=3600.0, validator=_positive)
    #: An upload nobody acknowledged is deleted (and the deletion audited) after this.
    upload_retention_seconds: float = field(default=86400.0, validator=_positive)
    #: A request with no word from its agent for this long is failed.
    request_timeout_seconds: float = field(default=6 * 3600.0, validator=_positive)
    activation_code_seconds: float = field(default=7 * 86400.0, validator=_positive)
    session_seconds: float = field(default=12 * 3600.0, validator=_positive)
    chunk_bytes: int = field(default=4 * 1024 * 1024, validator=_positive)
    max_upload_bytes: int = field(default=2 * 1024**3, validator=_positive)
    max_errors: int = field(default=200_000, validator=_positive)
    #: Also accept plain HTTP from these proxies (they terminated TLS; X-Forwarded-Proto).
    trusted_proxies: tuple[str, ...] = ()
    webhook_attempts: int = field(default=8, validator=_positive)
    #: The Celery broker worker-run schools' tasks go to (redis://..., amqp://...); none:
    #: their requests wait, and the hub says so in its log.
    broker_url: str = ""
    #: How long a worker holds a request without a word before another may take it over.
    worker_lease_seconds: float = field(default=120.0, validator=_positive)
    #: The time zone of schedules' windows ("01:00-05:00" is local school time).
    schedule_timezone: str = "Europe/London"
    #: The share of a window its schools' starts are spread over (the rest: to finish).
    schedule_spread: float = field(default=0.75, validator=_positive)
    #: The start of every queue's name (misbridge.wonde ...): integrators sharing a
    #: broker give each hub its own.
    queue_prefix: str = "misbridge."

    @classmethod
    def from_env(cls, env: Mapping[str, str], **given: object) -> HubSettings:
        """Settings from ``MISBRIDGE_HUB_<NAME>`` variables, then ``given`` on top."""
        values: dict[str, object] = {}
        for attribute in cls.__attrs_attrs__:
            raw = env.get(f"MISBRIDGE_HUB_{attribute.name.upper()}")
            if raw is None:
                continue
            values[attribute.name] = _parse(attribute.name, raw, attribute.default)
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _parse(name: str, raw: str, default: object) -> object:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
    except ValueError:
        raise ConfigurationError(
            f"MISBRIDGE_HUB_{name.upper()} must be a number (got {raw[:20]!r})"
        ) from None
    return raw
