"""Logging: redaction for every log line, and the CLI's one-time configuration.

Library code only ever calls ``structlog.get_logger()``. Only the CLI (or an
integrator's application) calls :func:`configure_logging`. The :func:`redact`
processor runs last before rendering, so it also sees what context variables and the
exception renderer added; exception renderers never print local variables, which is
where passwords live.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from misbridge.hooktypes import Secret

__all__ = ["LIBRARY_LOGGER", "REDACTED", "configure_logging", "processors", "quiet", "redact"]

#: The standard-library logger misbridge's events go to until an application configures
#: structlog itself: silent by default, as a library's logs should be.
LIBRARY_LOGGER = "misbridge"

REDACTED = "***"

#: Keys whose values are secrets wherever they appear, at any depth.
SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|api[_-]?key|"
    r"private[_-]?key|retrieval[_-]?key|credential|applicationsecret|signature)",
    re.IGNORECASE,
)

#: Values that look like secrets even under an innocent key (Basic/Bearer headers).
SECRET_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)

#: Switches on a command line that carry a secret (SIMS CommandReporter).
SECRET_SWITCH = re.compile(r"(/PASSWORD:)(\"[^\"]*\"|\S+)", re.IGNORECASE)

#: PEM private keys (the vault's encrypted PKCS8 key files), whole or cut short.
SECRET_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)

#: Keys the vault uses for material that is secret once unsealed.
VAULT_SECRET_KEY = re.compile(r"(plaintext|unsealed|mac[_-]key|shared[_-]secret)", re.IGNORECASE)


def _secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key) or VAULT_SECRET_KEY.search(key))


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, str):
        value = SECRET_PEM.sub(REDACTED, value)
        value = SECRET_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
        return SECRET_SWITCH.sub(lambda m: f"{m.group(1)}{REDACTED}", value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _secret_key(k) else _scrub(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v, depth + 1) for v in value)
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets by key, by type and by shape, at any depth."""
    for key in list(event):
        if _secret_key(key):
            event[key] = REDACTED
        else:
            event[key] = _scrub(event[key])
    return event


def processors(json_output: bool) -> list[Any]:
    """The processor chain the CLI uses; public so integrators can reuse it."""
    chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json_output:
        chain.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
        chain += [redact, structlog.processors.JSONRenderer()]
    else:
        chain += [
            redact,
            structlog.dev.ConsoleRenderer(
                colors=False,
                exception_formatter=structlog.dev.plain_traceback,
            ),
        ]
    return chain


def quiet() -> None:
    """Make misbridge's logging silent until the application configures it.

    Called when ``misbridge`` is imported. If structlog is not configured yet, its events
    go (redacted) to the standard library's ``misbridge`` logger, which has a
    ``NullHandler``: nothing is printed unless the application configures ``logging``
    (``logging.basicConfig(level=logging.INFO)`` shows them) or structlog (its own
    configuration then applies; add :func:`redact` to it). An application's later
    ``structlog.configure`` always wins."""
    target = logging.getLogger(LIBRARY_LOGGER)
    if not any(isinstance(h, logging.NullHandler) for h in target.handlers):
        target.addHandler(logging.NullHandler())
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            redact,
            structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=lambda *args: logging.getLogger(LIBRARY_LOGGER),
        cache_logger_on_first_use=False,
    )


def configure_logging(
    *, json_output: bool = False, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Configure structlog for an application. Libraries must never call this."""
    import stamina

    # Our HTTP client logs each retry itself ("http.retry", with the host and reason);
    # stamina's own events would repeat them as raw lines.
    stamina.instrumentation.set_on_retry_hooks([])
    structlog.configure(
        processors=processors(json_output),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
