"""The integrator's Celery workers: cloud-MIS schools extracted without an agent.

A school whose ``runner`` is "worker" (Wonde, Arbor, Bromcom: the integrator holds the
API credentials the school granted it) is not polled for by an agent. Start Extract, or
its nightly schedule, records the request as for any school, and the hub hands a task
to the broker (:mod:`misbridge.hub.dispatch`); a worker then:

1. claims the request with its own token (``mbw_``) and receives the job: the school's
   MIS and settings, its credentials *sealed to the workers' key* (the hub cannot open
   them), the requester's public key;
2. obtains the request's Integrator Token, and from then on uses exactly the agent's
   path: status calls, record errors, the sealed chunked upload, completion; the
   integrator retrieves and acknowledges it the same way.

A claim holds a **lease** (``worker_lease_seconds``), renewed by every status call. A
request whose lease ran out (its worker was killed) may be claimed again: the previous
attempt's Integrator Token is revoked and its partial upload deleted, so one request
completes once, however many deliveries of its task there were. A request that is
ready, acknowledged, failed or expired is "done": a late delivery changes nothing.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.accounts import parse_public_key
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, Conflict, NotFound, Unauthorized
from misbridge.hub.principals import Principal, Worker, audit
from misbridge.hub.tokens import digest, new_id, new_token

__all__ = [
    "DONE_STATES",
    "claim_job",
    "create_worker",
    "credentials_info",
    "extend_lease",
    "fail_job",
    "set_credentials",
    "worker_for",
    "worker_key",
    "worker_token",
]

R = schema.extract_request
DONE_STATES = ("ready", "acknowledged", "failed", "expired", "purged")


def credentials_info(school_id: str, kid: str) -> bytes:
    """HPKE ``info`` of a school's sealed credentials: bound to the school and key."""
    return f"misbridge/hub|mis-credentials|{school_id}|{kid}|1".encode()


def create_worker(
    engine: sa.Engine, now: datetime, actor: Principal | None, name: str, public_key: str
) -> dict[str, Any]:
    """Register a worker with the workers' X25519 public key; its token is shown once."""
    if not name.strip() or len(name) > 128:
        raise BadRequest("a worker needs a name (up to 128 characters)")
    _, kid = parse_public_key(public_key)
    token = new_token("worker")
    worker_id = new_id("wkr")
    with writer(engine) as conn:
        conn.execute(
            schema.worker.insert().values(
                id=worker_id,
                name=name.strip(),
                digest=digest(token),
                public_key=public_key,
                kid=kid,
                created_at=now,
            )
        )
        audit(conn, now, actor, "worker.create", detail={"worker": worker_id, "kid": kid})
    return {"id": worker_id, "name": name.strip(), "token": token, "kid": kid}


def worker_for(conn: sa.Connection, token_digest: str) -> Worker:
    w = schema.worker
    row = conn.execute(
        sa.select(w).where(w.c.digest == token_digest, w.c.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("unknown or revoked worker token: ask a hub administrator")
    return Worker(id=row.id, name=row.name)


def worker_key(engine: sa.Engine) -> tuple[str, str]:
    """The workers' public key (base64) and key id: the newest active worker's."""
    w = schema.worker
    with reader(engine) as conn:
        row = conn.execute(
            sa.select(w.c.public_key, w.c.kid)
            .where(w.c.revoked_at.is_(None))
            .order_by(w.c.created_at.desc())
        ).first()
    if row is None:
        raise NotFound("no worker is registered: add one first (misbridge hub worker add)")
    return str(row.public_key), str(row.kid)


def set_credentials(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    school_id: str,
    credentials: dict[str, str],
) -> str:
    """Seal ``credentials`` to the workers' key and keep only the sealed form; returns
    the key id. The clear values are never written anywhere."""
    import json

    from misbridge.vault.sealing import hpke_seal

    public, kid = worker_key(engine)
    key, _ = parse_public_key(public)
    sealed = hpke_seal(
        json.dumps(credentials, sort_keys=True).encode("utf-8"),
        key,
        credentials_info(school_id, kid),
    )
    c = schema.school_credentials
    with writer(engine) as conn:
        school = conn.execute(
            sa.select(schema.school.c.runner).where(schema.school.c.id == school_id)
        ).first()
        if school is None:
            raise NotFound(f"no school {school_id}")
        if school.runner != "worker":
            raise Conflict("this school's agent holds its credentials at the school")
        values = {"sealed": base64.b64encode(sealed).decode("ascii"), "kid": kid, "updated_at": now}
        if conn.execute(c.update().where(c.c.school_id == school_id).values(values)).rowcount == 0:
            conn.execute(c.insert().values(school_id=school_id, **values))
        audit(conn, now, actor, "school.credentials", school_id=school_id, detail={"kid": kid})
    return kid


def _job(conn: sa.Connection, row: Any) -> dict[str, Any]:
    school = conn.execute(sa.select(schema.school).where(schema.school.c.id == row.school_id)).one()
    sealed = conn.execute(
        sa.select(schema.school_credentials).where(
            schema.school_credentials.c.school_id == row.school_id
        )
    ).first()
    return {
        "request_id": row.id,
        "school_id": row.school_id,
        "school_name": school.name,
        "mis": school.mis,
        "settings": dict(school.settings or {}),
        "datasets": list(row.datasets),
        "recipient_public_key": row.recipient_public_key,
        "recipient_kid": row.recipient_kid,
        "attempt": row.attempts,
        "lease_until": row.lease_until,
        "credentials": None if sealed is None else {"sealed": sealed.sealed, "kid": sealed.kid},
    }


def claim_job(
    engine: sa.Engine,
    storage: Any,
    now: datetime,
    worker: Worker,
    request_id: str,
    lease: timedelta,
) -> dict[str, Any]:
    """Take a worker-run request: a pending one, or one whose worker's lease ran out.

    :raises Conflict: with ``state`` (a done request: nothing to do) or ``retry_after``
        (another worker holds it: ask again then).
    """
    from misbridge.hub.extracts import revoke_tokens
    from misbridge.hub.uploads import drop_upload

    with writer(engine) as conn:
        row = conn.execute(sa.select(R).where(R.c.id == request_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"no extract request {request_id}")
        runner = conn.execute(
            sa.select(schema.school.c.runner).where(schema.school.c.id == row.school_id)
        ).scalar()
        if runner != "worker":
            raise NotFound(f"no worker-run extract request {request_id}")
        if row.state in DONE_STATES:
            raise Conflict(f"request {request_id} is {row.state}: nothing to do", state=row.state)
        held = row.state != "pending" and row.lease_until is not None and row.lease_until > now
        if held:
            wait = max(1.0, (row.lease_until - now).total_seconds())
            raise Conflict(
                f"request {request_id} is being extracted by another worker; ask again in "
                f"{wait:.0f} s",
                state=row.state,
                retry_after=wait,
            )
        retaken = row.state != "pending"
        if retaken:
            revoke_tokens(conn, request_id, now)
            drop_upload(conn, storage, now, request_id, "retaken")
            conn.execute(schema.upload.delete().where(schema.upload.c.request_id == request_id))
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(
                state="claimed",
                agent_id=worker.id,
                claimed_at=now,
                updated_at=now,
                lease_until=now + lease,
                attempts=R.c.attempts + 1,
                detail="taken again: the previous worker stopped" if retaken else None,
            )
        )
        audit(
            conn,
            now,
            worker,
            "extract.claim",
            school_id=row.school_id,
            request_id=request_id,
            detail={"attempt": row.attempts + 1, "retaken": retaken},
        )
        return _job(conn, conn.execute(sa.select(R).where(R.c.id == request_id)).one())


def _mine(conn: sa.Connection, worker: Worker, request_id: str) -> Any:
    row = conn.execute(sa.select(R).where(R.c.id == request_id)).first()
    if row is None or row.agent_id != worker.id:
        raise NotFound(f"request {request_id} is not this worker's")
    return row


def worker_token(
    engine: sa.Engine,
    now: datetime,
    worker: Worker,
    request_id: str,
    lifetime: timedelta,
    lease: timedelta,
) -> dict[str, Any]:
    """The request's Integrator Token for the worker holding it (a new one revokes the
    previous one); the lease is renewed."""
    token = new_token("integrator")
    t = schema.integrator_token
    with writer(engine) as conn:
        row = _mine(conn, worker, request_id)
        if row.state not in ("claimed", "extracting", "uploading"):
            raise Conflict(f"request {request_id} is {row.state}: no Integrator Token for it")
        conn.execute(
            t.update()
            .where(t.c.request_id == request_id, t.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        token_id = new_id("itk")
        expires = now + lifetime
        conn.execute(
            t.insert().values(
                id=token_id,
                request_id=request_id,
                school_id=row.school_id,
                agent_id=worker.id,
                datasets=list(row.datasets),
                digest=digest(token),
                issued_at=now,
                expires_at=expires,
            )
        )
        state = "extracting" if row.state == "claimed" else row.state
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(state=state, updated_at=now, lease_until=now + lease)
        )
        audit(
            conn,
            now,
            worker,
            "integrator_token.issue",
            school_id=row.school_id,
            request_id=request_id,
            detail={"token": token_id},
        )
    return {
        "token": token,
        "expires_at": expires,
        "request_id": request_id,
        "school_id": row.school_id,
        "datasets": list(row.datasets),
    }


def fail_job(
    engine: sa.Engine, storage: Any, now: datetime, worker: Worker, request_id: str, reason: str
) -> dict[str, Any]:
    """The worker cannot do this request, for good (wrong credentials, a setting, the
    guard): it is failed, saying why; a partial upload is deleted."""
    from misbridge.hub.extracts import revoke_tokens
    from misbridge.hub.uploads import drop_upload

    with writer(engine) as conn:
        row = _mine(conn, worker, request_id)
        if row.state in DONE_STATES:
            return {"request_id": request_id, "state": row.state}
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(
                state="failed",
                detail=reason[:300],
                updated_at=now,
                finished_at=now,
                lease_until=None,
            )
        )
        revoke_tokens(conn, request_id, now)
        drop_upload(conn, storage, now, request_id, "failed")
        audit(
            conn,
            now,
            worker,
            "extract.fail",
            school_id=row.school_id,
            request_id=request_id,
            detail={"reason": reason[:300]},
        )
    return {"request_id": request_id, "state": "failed"}


def extend_lease(conn: sa.Connection, request_id: str, now: datetime, lease: timedelta) -> None:
    """A status call from a worker-run request's token renews its lease."""
    conn.execute(
        R.update()
        .where(R.c.id == request_id, R.c.lease_until.is_not(None))
        .values(lease_until=now + lease)
    )
