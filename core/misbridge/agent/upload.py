"""The sealed upload: chunks at the hub's offset, resumed after any break.

The agent declares size and SHA-256 (the hub finds the upload begun before a break),
asks where the hub is up to, and sends the rest chunk by chunk. A refused offset
(409) carries the hub's offset, and the agent continues from there. An optional rate
limit keeps a school's thin line usable during the upload.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from misbridge.agent.hubclient import AgentHub, HubRefused
from misbridge.hooktypes import Secret

__all__ = ["file_sha256", "upload_file"]

log = structlog.get_logger()


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            hasher.update(block)
    return hasher.hexdigest()


def upload_file(
    hub: AgentHub,
    token: Callable[[], Secret],
    request_id: str,
    path: Path,
    sha256: str,
    *,
    rate: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Upload ``path`` for the request, from wherever the hub is up to; bytes sent."""
    size = path.stat().st_size
    status = hub.begin_upload(token(), request_id, size, sha256)
    offset, chunk = int(status["offset"]), int(status["chunk_bytes"])
    if rate:
        chunk = max(1024, min(chunk, rate))
    if offset:
        log.info("agent.upload.resume", request=request_id, offset=offset, size=size)
    sent = 0
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            data = handle.read(chunk)
            started = time.monotonic()
            try:
                status = hub.send_chunk(token(), request_id, offset, data)
            except HubRefused as refused:
                if refused.status != 409:
                    raise
                offset = int(hub.upload_status(token(), request_id)["offset"])
                continue
            offset = int(status["offset"])
            sent += len(data)
            if rate:
                sleep(max(0.0, len(data) / rate - (time.monotonic() - started)))
    log.info("agent.upload.sent", request=request_id, size=size, sent=sent)
    return sent
