"""One extract request, from claim to sealed upload, resumable across restarts.

1. journal the request, then claim it (a request already in the journal is skipped:
   at most once per agent, however often it is notified);
2. start the Integrator; once it has read a record (the MIS login succeeded), obtain
   the Integrator Token and say so; renew the token and send status calls while it runs;
3. when it ends, send the run's record errors (ids, codes, fields: no personal values);
4. seal the extract folder to the requesting integrator's public key, delete the clear
   folder, upload in chunks, complete; note it in the ledger.

If the agent is stopped mid-extract, the next start stops the orphaned Integrator and
fails the request, saying why; stopped mid-upload, it resumes the upload.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from misbridge.agent import integrator
from misbridge.agent.config import AgentConfig
from misbridge.agent.hubclient import AgentHub, HubRefused, HubUnreachable
from misbridge.agent.journal import Journal
from misbridge.agent.upload import file_sha256, upload_file
from misbridge.hooktypes import Secret
from misbridge.hub.envelope import seal_folder
from misbridge.logs import _scrub

__all__ = ["Worker"]

log = structlog.get_logger()

HEARTBEAT_SECONDS = 60.0


class TokenHolder:
    """The request's Integrator Token, renewed before it expires."""

    def __init__(self, hub: AgentHub, request_id: str) -> None:
        self.hub = hub
        self.request_id = request_id
        self._token: Secret | None = None
        self._renew_at = 0.0

    @property
    def held(self) -> bool:
        return self._token is not None

    def __call__(self) -> Secret:
        if self._token is None or time.monotonic() >= self._renew_at:
            issued = self.hub.integrator_token(self.request_id)
            expires = datetime.fromisoformat(str(issued["expires_at"])).replace(tzinfo=UTC)
            life = max(1.0, (expires - datetime.now(UTC)).total_seconds())
            self._token = Secret(str(issued["token"]))
            self._renew_at = time.monotonic() + life * 2 / 3
        return self._token


def _error_rows(folder: Path) -> list[dict[str, Any]]:
    path = folder / "errors.jsonl"
    if not path.exists():
        return []
    keep = ("dataset", "mis_id", "record_label", "field", "code", "severity", "stage")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            rows.append({k: data.get(k) for k in keep})
    return rows


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {
        "ok": bool(data.get("ok")),
        "datasets": {
            name: {k: o.get(k) for k in ("status", "records", "rejected", "message")}
            for name, o in dict(data.get("datasets") or {}).items()
        },
    }


def _failure_line(log_path: Path) -> str:
    """The Integrator's own one-line error (misbridge errors carry no secrets), scrubbed."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if line.startswith("Error: ")]
    return str(_scrub(errors[-1][7:]))[:300] if errors else ""


class Worker:
    def __init__(
        self,
        config: AgentConfig,
        hub: AgentHub,
        journal: Journal,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.hub = hub
        self.journal = journal
        self.sleep = sleep

    # -- a new request ------------------------------------------------------------------

    def handle(self, job: dict[str, Any]) -> str:
        request_id = str(job["request_id"])
        if self.journal.get(request_id) is not None:
            log.info("agent.job.seen_before", request=request_id)
            return "skipped"
        self.journal.put(
            request_id,
            state="claiming",
            datasets=list(job["datasets"]),
            recipient_public_key=job["recipient_public_key"],
            recipient_kid=job["recipient_kid"],
            requested_by=job.get("requested_by"),
            hub=self.config.hub_url,
        )
        try:
            self.hub.claim(request_id)
        except HubRefused as refused:
            self.journal.put(request_id, state="gone", detail=refused.message[:300])
            log.info("agent.job.not_claimed", request=request_id, status=refused.status)
            return "not claimed"
        self.journal.put(request_id, state="claimed")
        log.info("agent.job.claimed", request=request_id, datasets=job["datasets"])
        return self._extract(request_id)

    def _extract(self, request_id: str) -> str:
        entry = self.journal.get(request_id) or {}
        work = self.journal.work_dir(request_id)
        out, log_path = work / "extract", work / "integrator.log"
        shutil.rmtree(out, ignore_errors=True)
        process = integrator.IntegratorProcess(
            integrator.start_integrator(
                self.config.mis,
                self.config.settings,
                self.config.credentials_school,
                entry["datasets"],
                out,
                log_path,
            )
        )
        self.journal.put(request_id, state="extracting", pid=process.pid)
        tokens = TokenHolder(self.hub, request_id)
        last_beat = time.monotonic()
        try:
            while (code := process.poll()) is None:
                try:
                    if not tokens.held and integrator.started_reading(out):
                        self.hub.status(tokens(), request_id, "MIS login succeeded; extracting")
                        last_beat = time.monotonic()
                    elif tokens.held and time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                        self.hub.status(tokens(), request_id, "extracting")
                        last_beat = time.monotonic()
                except HubUnreachable as exc:  # the extract goes on; the hub hears later
                    log.warning("agent.status_failed", request=request_id, error=exc.message)
                    last_beat = time.monotonic()
                self.sleep(0.2)
        finally:
            code = process.stop()
        log.info("agent.integrator.ended", request=request_id, exit_code=code)
        if code not in integrator.EXTRACTED or not (out / "summary.json").exists():
            reason = _failure_line(log_path) or f"the Integrator ended with exit code {code}"
            return self._fail(request_id, tokens, f"the extract failed: {reason}")
        summary = _summary(out)
        self.hub.put_errors(tokens(), request_id, _error_rows(out), summary)
        sealed = work / "sealed.bin"
        key = X25519PublicKey.from_public_bytes(base64.b64decode(entry["recipient_public_key"]))
        with sealed.open("wb") as target:
            seal_folder(
                out,
                target,
                key,
                request_id=request_id,
                school_id=self.config.school_id,
                kid=entry["recipient_kid"],
                work_dir=work,
            )
        shutil.rmtree(out)  # the clear extract does not outlive its sealed copy
        log_path.unlink(missing_ok=True)
        delivered = [
            d for d, o in summary["datasets"].items() if o.get("status") in ("complete", "partial")
        ]
        records = {d: o.get("records") for d, o in summary["datasets"].items()}
        self.journal.put(
            request_id,
            state="sealed",
            size=sealed.stat().st_size,
            sha256=file_sha256(sealed),
            delivered=delivered,
            records=records,
        )
        return self._upload(request_id, tokens)

    def _fail(self, request_id: str, tokens: TokenHolder, reason: str) -> str:
        try:
            if tokens.held:
                self.hub.fail(tokens(), request_id, reason)
            else:
                self.hub.fail_claimed(request_id, reason)
        except HubRefused as refused:
            log.warning("agent.job.fail_refused", request=request_id, status=refused.status)
        self.journal.put(request_id, state="failed", detail=reason[:300])
        shutil.rmtree(self.journal.work / request_id, ignore_errors=True)
        log.warning("agent.job.failed", request=request_id)
        return "failed"

    def _upload(self, request_id: str, tokens: TokenHolder) -> str:
        entry = self.journal.get(request_id) or {}
        sealed = self.journal.work_dir(request_id) / "sealed.bin"
        self.journal.put(request_id, state="uploading")
        upload_file(
            self.hub,
            tokens,
            request_id,
            sealed,
            entry["sha256"],
            rate=self.config.upload_rate,
            sleep=self.sleep,
        )
        self.hub.complete(tokens(), request_id, list(entry.get("delivered", [])))
        self.journal.put(request_id, state="uploaded")
        self.journal.record(
            "provided",
            hub=self.config.hub_url,
            school=self.config.school_id,
            request=request_id,
            requested_by=entry.get("requested_by"),
            datasets=entry.get("delivered", []),
            records=entry.get("records", {}),
            size=entry.get("size"),
            sha256=entry.get("sha256"),
        )
        shutil.rmtree(self.journal.work / request_id, ignore_errors=True)
        log.info("agent.job.uploaded", request=request_id, size=entry.get("size"))
        return "uploaded"

    # -- after a restart ----------------------------------------------------------------

    def resume(self, entry: dict[str, Any]) -> str:
        """Finish or fail, clearly, what a previous agent process left unfinished."""
        request_id = str(entry["request_id"])
        try:
            hub_state = str(self.hub.job(request_id)["state"])
        except HubRefused as refused:
            self.journal.put(request_id, state="gone", detail=refused.message[:300])
            return "gone"
        tokens = TokenHolder(self.hub, request_id)
        state = entry.get("state")
        if state == "claiming" and hub_state == "pending":
            self.journal.forget(request_id)  # never claimed: it is done afresh, once
            return "to do"
        if state in ("sealed", "uploading") and hub_state in ("extracting", "uploading"):
            log.info("agent.job.resume_upload", request=request_id)
            return self._upload(request_id, tokens)
        if hub_state not in ("claimed", "extracting", "uploading"):
            self.journal.put(request_id, state="gone", detail=f"the hub says {hub_state}")
            return "gone"
        work = self.journal.work / request_id
        pid = entry.get("pid")
        stopped = pid is not None and integrator.stop_leftover(int(pid), work / "extract")
        reason = (
            "the agent stopped during the extract"
            + (" (its Integrator was stopped too)" if stopped else "")
            + "; nothing was uploaded: start a new extract"
        )
        if hub_state != "claimed":
            tokens()  # the request is past its claim: it is failed with its own token
        return self._fail(request_id, tokens, reason)
