"""Sealed uploads: chunked and resumable in, retrieval key, download, acknowledgement.

The agent declares the upload's size and SHA-256, then sends chunks at the offset the
hub recorded (``Upload-Offset``, each with its own ``Content-Digest``); after a break
it asks for the offset and goes on from there. When the last byte is in, the hub
checks the whole upload's SHA-256 and the request becomes ``ready``.

The integrator downloads with its API token and the request's retrieval key, checks
the hash and then **acknowledges**: only the acknowledgement deletes the upload (a
download whose answer was lost on the way can be repeated). The acknowledgement uses
up the retrieval key: any later use is refused, as is an expired or replaced key.
Uploads nobody acknowledges are deleted when their retention ends, and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    HubError,
    NotFound,
    TooLarge,
)
from misbridge.hub.extracts import revoke_tokens
from misbridge.hub.principals import IMPORT_DATA, Integrator, Principal, User, audit, require_user
from misbridge.hub.storage import UploadStorage
from misbridge.hub.tokens import digest, new_id, new_token

__all__ = [
    "acknowledge",
    "begin_upload",
    "complete_upload",
    "drop_upload",
    "issue_retrieval_key",
    "open_download",
    "upload_status",
    "write_chunk",
]

R, U = schema.extract_request, schema.upload
_SHA = re.compile(r"[0-9a-f]{64}")


def _request(conn: sa.Connection, integ: Integrator, request_id: str, *states: str) -> Any:
    if integ.request_id != request_id:
        raise Forbidden("this Integrator Token belongs to another request")
    row = conn.execute(sa.select(R).where(R.c.id == request_id)).first()
    if row is None:
        raise NotFound(f"no extract request {request_id}")
    if row.state not in states:
        raise Conflict(f"request {request_id} is {row.state}: no upload is accepted for it now")
    return row


def _status(up: Any) -> dict[str, Any]:
    return {
        "upload_id": up.id,
        "size": up.size,
        "sha256": up.sha256,
        "offset": up.received,
        "chunk_bytes": up.chunk_bytes,
        "complete": up.completed_at is not None,
    }


def begin_upload(
    engine: sa.Engine,
    now: datetime,
    integ: Integrator,
    request_id: str,
    size: int,
    sha256: str,
    chunk_bytes: int,
    max_bytes: int,
) -> dict[str, Any]:
    """Start the request's upload, or find the one begun before a break (same content)."""
    sha256 = sha256.lower()
    if not _SHA.fullmatch(sha256):
        raise BadRequest("sha256 must be 64 hexadecimal digits (the upload's SHA-256)")
    if size <= 0:
        raise BadRequest("size must be the upload's length in bytes (above 0)")
    if size > max_bytes:
        raise TooLarge(f"the upload is {size} bytes; this hub accepts up to {max_bytes}")
    with writer(engine) as conn:
        row = _request(conn, integ, request_id, "extracting", "uploading")
        up = conn.execute(sa.select(U).where(U.c.request_id == request_id)).first()
        if up is not None:
            if (up.size, up.sha256) != (size, sha256) or up.deleted_at is not None:
                raise Conflict(
                    "an upload with other content was begun for this request; a request's "
                    "upload cannot change (fail the request and start a new extract)"
                )
            return _status(up)
        conn.execute(
            U.insert().values(
                id=new_id("upl"),
                request_id=request_id,
                school_id=row.school_id,
                size=size,
                sha256=sha256,
                received=0,
                chunk_bytes=chunk_bytes,
                created_at=now,
                updated_at=now,
                downloads=0,
            )
        )
        conn.execute(
            R.update().where(R.c.id == request_id).values(state="uploading", updated_at=now)
        )
        audit(
            conn,
            now,
            integ,
            "upload.begin",
            school_id=row.school_id,
            request_id=request_id,
            detail={"size": size},
        )
        return _status(conn.execute(sa.select(U).where(U.c.request_id == request_id)).one())


def upload_status(engine: sa.Engine, integ: Integrator, request_id: str) -> dict[str, Any]:
    with reader(engine) as conn:
        _request(conn, integ, request_id, "uploading", "ready")
        up = conn.execute(sa.select(U).where(U.c.request_id == request_id)).first()
    if up is None:
        raise NotFound(f"no upload was begun for request {request_id}")
    return _status(up)


def write_chunk(
    engine: sa.Engine,
    storage: UploadStorage,
    now: datetime,
    integ: Integrator,
    request_id: str,
    offset: int,
    data: bytes,
    sha256: bytes | None,
) -> dict[str, Any]:
    """Store one chunk at ``offset`` (which must be where the hub is up to)."""
    with writer(engine) as conn:
        _request(conn, integ, request_id, "uploading")
        if sha256 is None:
            raise BadRequest("each chunk needs a Content-Digest header (sha-256=:<base64>:)")
        if not hmac.compare_digest(hashlib.sha256(data).digest(), sha256):
            raise BadRequest("the chunk does not match its Content-Digest; send it again")
        up = conn.execute(sa.select(U).where(U.c.request_id == request_id)).first()
        if up is None:
            raise NotFound(f"no upload was begun for request {request_id}")
        if offset != up.received:
            raise Conflict(
                f"the hub has {up.received} bytes of this upload; send from there (Upload-Offset)",
                offset=up.received,
            )
        if not data or len(data) > up.chunk_bytes or offset + len(data) > up.size:
            raise BadRequest(
                f"a chunk must be 1 to {up.chunk_bytes} bytes and end within the declared size"
            )
        storage.write_at(up.id, offset, data)
        conn.execute(
            U.update().where(U.c.id == up.id).values(received=offset + len(data), updated_at=now)
        )
        conn.execute(R.update().where(R.c.id == request_id).values(updated_at=now))
        return _status(conn.execute(sa.select(U).where(U.c.id == up.id)).one())


def complete_upload(
    engine: sa.Engine,
    storage: UploadStorage,
    now: datetime,
    integ: Integrator,
    request_id: str,
    datasets: list[str],
    retention: timedelta,
) -> dict[str, Any]:
    """Check the whole upload's hash; the request becomes ``ready`` and the integrator
    who asked is notified (a webhook, if it set one; the request's status in any case)."""
    outside = [d for d in datasets if d not in integ.datasets]
    if outside:
        raise Forbidden(f"datasets {', '.join(outside)} are outside this request's datasets")
    with writer(engine) as conn:
        row = _request(conn, integ, request_id, "uploading")
        up = conn.execute(sa.select(U).where(U.c.request_id == request_id)).one()
        if up.received != up.size:
            raise Conflict(f"the hub has {up.received} of {up.size} bytes: send the rest first")
        if storage.sha256(up.id) != up.sha256:
            raise Conflict(
                "the stored upload does not match its SHA-256; it was deleted: upload it again",
            )
        conn.execute(
            U.update()
            .where(U.c.id == up.id)
            .values(completed_at=now, updated_at=now, expires_at=now + retention)
        )
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(state="ready", updated_at=now, detail="sealed extract ready to retrieve")
        )
        revoke_tokens(conn, request_id, now)
        user = conn.execute(
            sa.select(schema.users).where(schema.users.c.id == row.requested_by)
        ).one()
        if user.webhook_url:
            conn.execute(
                schema.notification.insert().values(
                    request_id=request_id,
                    user_id=user.id,
                    event="extract.ready",
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
            )
        audit(
            conn,
            now,
            integ,
            "upload.complete",
            school_id=row.school_id,
            request_id=request_id,
            detail={"size": up.size, "datasets": datasets},
        )
        return _status(conn.execute(sa.select(U).where(U.c.id == up.id)).one())


def _retrievable(conn: sa.Connection, user: User, request_id: str) -> tuple[Any, Any]:
    row = conn.execute(sa.select(R).where(R.c.id == request_id)).first()
    if row is None or not user.sees(row.school_id):
        raise NotFound(f"no extract request {request_id}")
    if row.requested_by != user.id:
        raise Forbidden(
            "only the user who started this extract may retrieve it: it is sealed to their key"
        )
    up = conn.execute(sa.select(U).where(U.c.request_id == request_id)).first()
    if up is None or up.completed_at is None:
        raise Conflict(f"request {request_id} is {row.state}: there is nothing to retrieve yet")
    if up.deleted_at is not None:
        raise Gone(f"the upload of request {request_id} was deleted ({up.deleted_why})")
    return row, up


def issue_retrieval_key(
    engine: sa.Engine,
    now: datetime,
    principal: Principal | None,
    request_id: str,
    lifetime: timedelta,
    *,
    for_user: User | None = None,
) -> dict[str, Any]:
    """A new retrieval key for a ready upload (it replaces the previous one)."""
    key = new_token("retrieval")
    if principal is not None:
        user = require_user(engine, now, principal, IMPORT_DATA, "retrieval_key.issue")
    else:
        assert for_user is not None  # the hub's own webhook delivery
        user = for_user
    with writer(engine) as conn:
        row, up = _retrievable(conn, user, request_id)
        expires = min(now + lifetime, up.expires_at)
        conn.execute(
            U.update()
            .where(U.c.id == up.id)
            .values(retrieval_digest=digest(key), retrieval_expires_at=expires)
        )
        audit(
            conn, now, principal, "retrieval_key.issue", school_id=row.school_id, request_id=row.id
        )
    return {
        "retrieval_key": key,
        "expires_at": expires,
        "size": up.size,
        "sha256": up.sha256,
        "request_id": request_id,
        "school_id": row.school_id,
    }


def _check_key(up: Any, key: str | None, now: datetime) -> None:
    if not key:
        raise BadRequest("send the retrieval key in the Retrieval-Key header")
    if up.retrieval_digest is None or not hmac.compare_digest(up.retrieval_digest, digest(key)):
        raise Forbidden("that is not this upload's current retrieval key")
    if up.retrieval_expires_at is None or up.retrieval_expires_at <= now:
        raise Gone("this retrieval key has expired: ask for a new one")


def open_download(
    engine: sa.Engine,
    storage: UploadStorage,
    now: datetime,
    principal: Principal,
    request_id: str,
    key: str | None,
) -> tuple[int, str, Iterator[bytes]]:
    """(size, sha256, the ciphertext as a stream) for the right user and key."""
    user = require_user(engine, now, principal, IMPORT_DATA, "upload.download")
    refused: HubError | None = None
    with writer(engine) as conn:
        try:
            row, up = _retrievable(conn, user, request_id)
        except Gone:
            audit(conn, now, user, "upload.download", "refused", request_id=request_id)
            raise
        try:
            _check_key(up, key, now)
        except (Forbidden, Gone, BadRequest) as exc:
            audit(
                conn,
                now,
                user,
                "upload.download",
                "denied",
                school_id=row.school_id,
                request_id=request_id,
                detail={"reason": exc.code},
            )
            refused = exc
        else:
            conn.execute(U.update().where(U.c.id == up.id).values(downloads=U.c.downloads + 1))
            audit(
                conn, now, user, "upload.download", school_id=row.school_id, request_id=request_id
            )
    if refused is not None:
        raise refused
    return up.size, up.sha256, storage.read(up.id)


def acknowledge(
    engine: sa.Engine,
    storage: UploadStorage,
    now: datetime,
    principal: Principal,
    request_id: str,
    key: str | None,
    sha256: str,
) -> dict[str, Any]:
    """The integrator has the extract and its hash matched: delete the upload for good."""
    user = require_user(engine, now, principal, IMPORT_DATA, "upload.acknowledge")
    with writer(engine) as conn:
        row, up = _retrievable(conn, user, request_id)
        _check_key(up, key, now)
        if not hmac.compare_digest(sha256.lower(), up.sha256):
            raise Conflict(
                "that SHA-256 is not the upload's: download it again before acknowledging"
            )
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(
                state="acknowledged",
                updated_at=now,
                finished_at=now,
                detail="retrieved and deleted",
            )
        )
        conn.execute(U.update().where(U.c.id == up.id).values(acknowledged_at=now))
        drop_upload(conn, storage, now, request_id, "acknowledged")
        audit(conn, now, user, "upload.acknowledge", school_id=row.school_id, request_id=request_id)
    return {"request_id": request_id, "state": "acknowledged", "deleted": True}


def drop_upload(
    conn: sa.Connection, storage: UploadStorage, now: datetime, request_id: str, why: str
) -> bool:
    """Delete a request's upload (its ciphertext) and mark it deleted; False if none."""
    up = conn.execute(
        sa.select(U).where(U.c.request_id == request_id, U.c.deleted_at.is_(None))
    ).first()
    if up is None:
        return False
    conn.execute(U.update().where(U.c.id == up.id).values(deleted_at=now, deleted_why=why))
    storage.delete(up.id)
    return True
