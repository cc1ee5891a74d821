"""Telling an integrator its extract is ready: a signed webhook, retried, durable.

When an upload completes, a notification row is written in the same transaction, so a
hub restart never loses it. The sweeper delivers due notifications: each delivery
issues a fresh retrieval key (the database keeps only digests, so a key cannot be
re-sent; the newest one delivered is the valid one) and POSTs::

    {"event": "extract.ready", "request_id": ..., "school_id": ..., "size": ...,
     "sha256": ..., "retrieval_key": "mbr_...", "expires_at": ...,
     "download": "/api/v1/extracts/<id>/download", "ack": "/api/v1/extracts/<id>/ack"}

signed with the hub's Ed25519 key: ``Misbridge-Signature: t=<unix time>,ed25519=<b64>``
over ``<t>.<body>``; the public key is at ``GET /api/v1/hub/signing-key``. Webhook URLs
must be https (plain http only to the loopback interface); redirects are not followed.
Failures are retried with exponential backoff up to ``webhook_attempts`` times.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from misbridge.errors import ConfigurationError
from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, HubError
from misbridge.hub.principals import User, audit
from misbridge.hub.protocol import API, is_loopback
from misbridge.hub.settings import HubSettings
from misbridge.hub.uploads import issue_retrieval_key

__all__ = ["check_webhook_url", "deliver_due", "load_signing_key", "sign", "signing_public_key"]

log = structlog.get_logger()


def check_webhook_url(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise BadRequest("the webhook URL is not a URL") from None
    if target.scheme == "https" or (target.scheme == "http" and is_loopback(target.host)):
        return target
    raise BadRequest("a webhook URL must be https (plain http only to the loopback interface)")


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The hub's webhook signing key, made (owner-only) on first use."""
    if path.exists():
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise ConfigurationError(
                f"the hub's signing key {path} is readable by others: chmod 600 it"
            )
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key")
        return loaded
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def signing_public_key(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign(key: Ed25519PrivateKey, body: bytes, at: datetime) -> str:
    stamp = str(int(at.timestamp()))
    signature = key.sign(stamp.encode("ascii") + b"." + body)
    return f"t={stamp},ed25519={base64.b64encode(signature).decode('ascii')}"


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def deliver_due(
    engine: sa.Engine,
    now: datetime,
    settings: HubSettings,
    key: Ed25519PrivateKey,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Deliver every due notification once; returns how many were delivered."""
    n, r = schema.notification, schema.extract_request
    with reader(engine) as conn:
        due = conn.execute(
            sa.select(n, r.c.state, r.c.school_id, schema.users)
            .join(r, r.c.id == n.c.request_id)
            .join(schema.users, schema.users.c.id == n.c.user_id)
            .where(
                n.c.delivered_at.is_(None),
                n.c.attempts < settings.webhook_attempts,
                n.c.next_attempt_at <= now,
            )
            .order_by(n.c.id)
            .limit(100)
        ).all()
    delivered = 0
    for row in due:
        if row.state != "ready" or not row.webhook_url:
            _mark(engine, row.id, now, delivered=True, status="obsolete")
            continue
        user = User(row.user_id, row.name, frozenset(row.permissions), None, "", "webhook")
        try:
            issued = issue_retrieval_key(
                engine,
                now,
                None,
                row.request_id,
                timedelta(seconds=settings.retrieval_key_seconds),
                for_user=user,
            )
        except HubError as exc:
            _mark(engine, row.id, now, delivered=True, status=f"obsolete: {exc.code}")
            continue
        status = _post(row.webhook_url, _payload(issued), now, key, transport)
        ok = status.startswith("2")
        _mark(engine, row.id, now, delivered=ok, status=status, attempts=row.attempts + 1)
        with writer(engine) as conn:
            audit(
                conn,
                now,
                None,
                "webhook.deliver",
                "ok" if ok else "error",
                school_id=row.school_id,
                request_id=row.request_id,
                detail={"status": status, "attempt": row.attempts + 1},
            )
        delivered += ok
    return delivered


def _payload(issued: dict[str, Any]) -> dict[str, Any]:
    request_id = issued["request_id"]
    return {
        "event": "extract.ready",
        "request_id": request_id,
        "school_id": issued["school_id"],
        "size": issued["size"],
        "sha256": issued["sha256"],
        "retrieval_key": issued["retrieval_key"],
        "expires_at": issued["expires_at"].isoformat() + "Z",
        "download": f"{API}/extracts/{request_id}/download",
        "ack": f"{API}/extracts/{request_id}/ack",
    }


def _post(
    url: str,
    payload: dict[str, Any],
    now: datetime,
    key: Ed25519PrivateKey,
    transport: httpx.BaseTransport | None,
) -> str:
    try:
        target = check_webhook_url(url)
    except BadRequest:
        return "refused: not https"
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "misbridge-hub",
        "Misbridge-Signature": sign(key, body, now),
    }
    try:
        with httpx.Client(timeout=10.0, follow_redirects=False, transport=transport) as client:
            response = client.post(target, content=body, headers=headers)
    except httpx.HTTPError as exc:
        log.warning("hub.webhook.failed", host=target.host, error=type(exc).__name__)
        return type(exc).__name__
    return str(response.status_code)


def _mark(
    engine: sa.Engine,
    notification_id: int,
    now: datetime,
    *,
    delivered: bool,
    status: str,
    attempts: int | None = None,
) -> None:
    n = schema.notification
    values: dict[str, Any] = {"last_status": status[:64]}
    if delivered:
        values["delivered_at"] = now
    if attempts is not None:
        values["attempts"] = attempts
        values["next_attempt_at"] = now + _backoff(attempts)
    with writer(engine) as conn:
        conn.execute(n.update().where(n.c.id == notification_id).values(**values))
