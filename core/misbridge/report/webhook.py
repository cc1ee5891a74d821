"""The built-in ``report_errors`` plugin: POST a run's errors as JSON to a URL.

Set ``MISBRIDGE_REPORT_URL`` (https, or http on the loopback interface only) to turn
it on; unset, it does nothing. ``MISBRIDGE_REPORT_TOKEN``, if set, is sent as a bearer
token and appears nowhere else. Errors go in batches of :data:`BATCH` with the run's
summary; each batch is retried a few times on transport errors, 429 and 5xx, within a
short overall deadline. Delivery problems are logged (host only, never the path,
query or token) and never raised: a report that cannot be sent must not fail a run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from misbridge.errors import RecordError
from misbridge.hookspecs import hookimpl
from misbridge.report.files import error_rows

if TYPE_CHECKING:
    import httpx

__all__ = ["BATCH", "SCHEMA", "post_errors", "report_errors"]

SCHEMA = "misbridge.errors/1"
BATCH = 1000
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}

log = structlog.get_logger()


class _Retry(Exception):
    pass


def _target(url: str) -> httpx.URL | None:
    # httpx and stamina are imported when a report is sent: every process loads this
    # plugin, and most never set MISBRIDGE_REPORT_URL.
    import httpx

    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    if target.scheme == "https" or (target.scheme == "http" and target.host in _LOOPBACK):
        return target
    return None


def post_errors(
    url: str,
    errors: Sequence[RecordError],
    summary: Mapping[str, Any],
    *,
    token: str | None = None,
    timeout: float = 10.0,
    attempts: int = 3,
    transport: httpx.BaseTransport | None = None,
) -> bool:
    """POST the errors in batches; True when every batch was accepted (2xx)."""
    import httpx
    import stamina

    target = _target(url)
    if target is None:
        log.warning("report.webhook.bad_url", reason="must be https, or http on loopback")
        return False
    host = target.host
    rows = error_rows(errors)
    parts = max(1, -(-len(rows) // BATCH))
    headers = {"User-Agent": "misbridge-report"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(
        timeout=timeout, follow_redirects=False, transport=transport, headers=headers
    ) as client:
        for part in range(parts):
            payload = {
                "schema": SCHEMA,
                "part": part + 1,
                "parts": parts,
                "summary": dict(summary),
                "errors": rows[part * BATCH : (part + 1) * BATCH],
            }
            try:
                for attempt in stamina.retry_context(
                    on=_Retry, attempts=attempts, timeout=timeout * attempts, wait_max=5.0
                ):
                    with attempt:
                        status = _send(client, target, payload)
            except _Retry as exc:
                log.warning("report.webhook.failed", host=host, part=part + 1, reason=str(exc))
                return False
            if not 200 <= status < 300:
                log.warning("report.webhook.refused", host=host, part=part + 1, status=status)
                return False
    log.info("report.webhook.sent", host=host, errors=len(rows), parts=parts)
    return True


def _send(client: httpx.Client, target: httpx.URL, payload: dict[str, Any]) -> int:
    import httpx

    try:
        response = client.post(target, json=payload)
    except httpx.TransportError as exc:
        raise _Retry(type(exc).__name__) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise _Retry(f"HTTP {response.status_code}")
    return response.status_code


@hookimpl
def report_errors(errors: Sequence[RecordError], summary: dict[str, object]) -> None:
    url = os.environ.get("MISBRIDGE_REPORT_URL", "").strip()
    if not url:
        return
    try:
        post_errors(url, errors, summary, token=os.environ.get("MISBRIDGE_REPORT_TOKEN") or None)
    except Exception as exc:  # a report that cannot be sent must never fail the run
        log.warning("report.webhook.error", error=type(exc).__name__)
