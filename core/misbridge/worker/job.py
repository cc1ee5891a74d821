"""One worker-run request, from the claim to the sealed upload (what a task does).

1. claim it at the hub (under a lease); a request already done is nothing to do, one
   another worker holds is asked about again later (:class:`Held`);
2. open the school's MIS credentials (sealed to the workers' key; the hub cannot);
3. run :func:`misbridge.run` for the school into a private work folder, renewing the
   lease with status calls while it runs;
4. send the record errors, seal the extract to the requester's key, upload it in
   chunks and complete: the agent's own path, so the integrator retrieves and
   acknowledges it the same way.

Failures are sorted: the MIS or the hub unreachable, the vendor's limits or a read that
failed are :class:`Transient` (the task retries with backoff); refused credentials or a
wrong setting fail the request at once, saying why, and are never retried. A refusal by
the guard of the worker's own store (when it has one) is reported in the extract's
summary; the extract is delivered and not retried.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from attrs import field, frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from misbridge.agent.hubclient import AgentHub, HubRefused, HubUnreachable
from misbridge.errors import (
    AuthenticationError,
    ConfigurationError,
    MisbridgeError,
    PermissionDeniedError,
    RunLocked,
    SourceUnavailableError,
)
from misbridge.hooktypes import Secret
from misbridge.worker.ratelimit import RateRule

__all__ = ["Held", "Transient", "WorkerSettings", "load_key", "new_key", "run_job"]

log = structlog.get_logger()


class Transient(MisbridgeError):
    """Worth another try later (the MIS, the vendor's limit or the hub)."""


class Held(MisbridgeError):
    """Another worker holds the request: ask again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


@frozen
class WorkerSettings:
    """What every task of a worker needs (``misbridge worker`` sets it)."""

    hub_url: str
    token: Secret = field(repr=False)
    key_path: Path
    work_dir: Path
    store: str | None = None
    ca_file: str | None = None
    heartbeat_seconds: float = 20.0
    redis_url: str | None = None
    rate_limits: tuple[RateRule, ...] = ()


def new_key(path: Path) -> str:
    """Make the workers' X25519 key pair at ``path`` (owner-only); return the public
    half, base64 (register it with ``misbridge hub worker add``)."""
    import os

    key = X25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return _public(key)


def _public(key: X25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_key(path: Path) -> X25519PrivateKey:
    import os

    try:
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise ConfigurationError(f"the workers' key {path} is readable by others: chmod 600 it")
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the workers' key {path}: {exc.strerror}; make one with "
            "'misbridge worker key --key-file PATH'"
        ) from None
    if not isinstance(loaded, X25519PrivateKey):
        raise ConfigurationError(f"{path} is not an X25519 private key")
    return loaded


def _credentials(job: dict[str, Any], key: X25519PrivateKey) -> dict[str, Secret]:
    from misbridge.hub.workers import credentials_info
    from misbridge.vault.sealing import hpke_open

    sealed = job.get("credentials")
    if not sealed:
        raise ConfigurationError(
            f"school {job['school_id']} has no MIS credentials at the hub: set them with "
            "'misbridge hub school set-credentials'"
        )
    try:
        clear = hpke_open(
            base64.b64decode(sealed["sealed"]),
            key,
            credentials_info(str(job["school_id"]), str(sealed["kid"])),
        )
    except MisbridgeError:
        raise ConfigurationError(
            f"school {job['school_id']}'s credentials are sealed to key {sealed['kid']}, "
            "which this worker does not hold: set them again for the workers' current key"
        ) from None
    return {k: Secret(v) for k, v in json.loads(clear).items()}


class _Tokens:
    def __init__(self, hub: AgentHub, request_id: str) -> None:
        self.hub, self.request_id = hub, request_id
        self._token: Secret | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> Secret:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                issued = self.hub.call("POST", f"/worker/jobs/{self.request_id}/token")
                expires = datetime.fromisoformat(str(issued["expires_at"])).replace(tzinfo=UTC)
                life = max(1.0, (expires - datetime.now(UTC)).total_seconds())
                self._token = Secret(str(issued["token"]))
                self._renew_at = time.monotonic() + life * 2 / 3
            return self._token


def _claim(hub: AgentHub, request_id: str) -> dict[str, Any] | None:
    try:
        job: dict[str, Any] = hub.call("POST", f"/worker/jobs/{request_id}/claim")
    except HubRefused as refused:
        if refused.status == 409 and "retry_after" in refused.body:
            raise Held(refused.message, float(refused.body["retry_after"])) from None
        if refused.status in (404, 409):
            log.info("worker.job.nothing_to_do", request=request_id, status=refused.status)
            return None
        raise
    except HubUnreachable as exc:
        raise Transient(exc.message) from None
    return job


def run_job(settings: WorkerSettings, request_id: str, *, transport: Any = None) -> str:
    """Do one request; returns "uploaded", "done" (nothing to do) or "failed" (for good).

    :raises Held: another worker holds it. :raises Transient: try again later.
    """
    hub = AgentHub(settings.hub_url, settings.token, ca_file=settings.ca_file, transport=transport)
    try:
        job = _claim(hub, request_id)
        if job is None:
            return "done"
        return _work(settings, hub, job)
    finally:
        hub.close()


def _fail(hub: AgentHub, request_id: str, reason: str) -> str:
    try:
        hub.call("POST", f"/worker/jobs/{request_id}/fail", json={"reason": reason[:2000]})
    except HubUnreachable as exc:
        raise Transient(exc.message) from None
    log.warning("worker.job.failed", request=request_id, reason=reason[:300])
    return "failed"


def _work(settings: WorkerSettings, hub: AgentHub, job: dict[str, Any]) -> str:
    request_id = str(job["request_id"])
    key = load_key(settings.key_path)
    try:
        credentials = _credentials(job, key)
    except ConfigurationError as exc:
        return _fail(hub, request_id, exc.message)
    work = settings.work_dir / request_id
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    tokens = _Tokens(hub, request_id)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(hub, tokens, request_id, stop, settings), daemon=True
    )
    try:
        tokens()
        beat.start()
        try:
            result = asyncio.run(_extract(settings, job, credentials, work / "extract"))
        except (AuthenticationError, ConfigurationError, PermissionDeniedError) as exc:
            return _fail(hub, request_id, f"the extract failed: {exc.message}")
        except RunLocked as exc:
            raise Transient(exc.message) from None
        except SourceUnavailableError as exc:
            raise Transient(exc.message) from None
        if result.status == "failed":
            reasons = "; ".join(o.message or "" for o in result.outcomes.values())[:300]
            raise Transient(f"no dataset could be read ({reasons})")
        stop.set()
        beat.join(timeout=5)
        return _deliver(hub, tokens, job, work)
    except HubUnreachable as exc:
        raise Transient(exc.message) from None
    finally:
        stop.set()
        shutil.rmtree(work, ignore_errors=True)


async def _extract(
    settings: WorkerSettings, job: dict[str, Any], credentials: dict[str, Secret], out: Path
) -> Any:
    from misbridge.http import rate_limiter
    from misbridge.jobs.config import SchoolConfig
    from misbridge.jobs.run import run_async
    from misbridge.model import Dataset

    school = SchoolConfig(
        name=str(job["school_id"]),
        mis=str(job["mis"]),
        settings=dict(job["settings"]),
        datasets=tuple(Dataset(d) for d in job["datasets"]),
        store=settings.store,
        out=out,
        origin=f"the hub's school {job['school_id']}",
    )
    limiter = None
    if settings.redis_url and settings.rate_limits:
        from misbridge.worker.ratelimit import RedisRateLimiter

        limiter = RedisRateLimiter(settings.redis_url, settings.rate_limits)
    mark = rate_limiter.set(limiter)
    try:
        return await run_async(
            school, credentials=credentials, lock_folder=settings.work_dir / "locks"
        )
    finally:
        rate_limiter.reset(mark)
        if limiter is not None:
            await limiter.aclose()


def _heartbeat(
    hub: AgentHub, tokens: _Tokens, request_id: str, stop: threading.Event, settings: Any
) -> None:
    """Status calls while the extract runs: they renew the lease."""
    while not stop.wait(settings.heartbeat_seconds):
        try:
            hub.status(tokens(), request_id, "extracting (worker)")
        except (HubUnreachable, HubRefused) as exc:
            log.warning("worker.status_failed", request=request_id, error=exc.message)


def _deliver(hub: AgentHub, tokens: _Tokens, job: dict[str, Any], work: Path) -> str:
    from misbridge.agent.upload import file_sha256, upload_file
    from misbridge.agent.worker import _error_rows, _summary
    from misbridge.hub.envelope import seal_folder

    request_id = str(job["request_id"])
    out = work / "extract"
    summary = _summary(out)
    hub.put_errors(tokens(), request_id, _error_rows(out), summary)
    sealed = work / "sealed.bin"
    recipient = X25519PublicKey.from_public_bytes(base64.b64decode(job["recipient_public_key"]))
    with sealed.open("wb") as target:
        seal_folder(
            out,
            target,
            recipient,
            request_id=request_id,
            school_id=str(job["school_id"]),
            kid=str(job["recipient_kid"]),
            work_dir=work,
        )
    shutil.rmtree(out)  # the clear extract does not outlive its sealed copy
    upload_file(hub, tokens, request_id, sealed, file_sha256(sealed))
    delivered = [
        d for d, o in summary["datasets"].items() if o.get("status") in ("complete", "partial")
    ]
    hub.complete(tokens(), request_id, delivered)
    log.info("worker.job.uploaded", request=request_id, attempt=job.get("attempt"))
    return "uploaded"
