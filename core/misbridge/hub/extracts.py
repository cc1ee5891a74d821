"""Extract requests: Start Extract, claiming by the school's agent, Integrator Tokens,
status calls and failures (the run's record errors are in :mod:`misbridge.hub.run_errors`).

A school has at most one extract running: a second Start Extract by the same user for
the same datasets joins the running one; any other is refused (409) naming it. An
agent claims a request once (a second claim, even its own, is refused), so a request
notified twice is processed once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import Conflict, Forbidden, NotFound
from misbridge.hub.principals import (
    IMPORT_DATA,
    VIEW,
    Agent,
    Integrator,
    Principal,
    audit,
    audit_now,
    require_school,
    require_user,
)
from misbridge.hub.protocol import ACTIVE_STATES
from misbridge.hub.schools import check_datasets
from misbridge.hub.storage import UploadStorage
from misbridge.hub.tokens import digest, new_id, new_token

__all__ = [
    "claim",
    "fail",
    "get_request",
    "issue_integrator_token",
    "list_requests",
    "load_request",
    "pending_jobs",
    "progress",
    "revoke_tokens",
    "start_extract",
    "working",
]

R = schema.extract_request


def start_extract(
    engine: sa.Engine,
    now: datetime,
    principal: Principal,
    school_id: str,
    datasets: Iterable[str] | None,
) -> tuple[dict[str, Any], bool]:
    """Record a request (or join the running one); returns (request, joined)."""
    user = require_user(engine, now, principal, IMPORT_DATA, "extract.start", school_id=school_id)
    with writer(engine) as conn:
        school = conn.execute(
            sa.select(schema.school).where(schema.school.c.id == school_id).with_for_update()
        ).first()
        if school is None:
            raise NotFound(f"no school {school_id}")
        chosen = check_datasets(datasets if datasets is not None else school.datasets)
        me = conn.execute(sa.select(schema.users).where(schema.users.c.id == user.id)).one()
        if me.public_key is None:
            raise Conflict(
                f"user {user.name} has no public key registered, so an extract could not be "
                "sealed to it: register one first (PUT /api/v1/me/public-key, or 'misbridge "
                "hub user set-key')"
            )
        running = conn.execute(
            sa.select(R).where(R.c.school_id == school_id, R.c.state.in_(ACTIVE_STATES))
        ).first()
        if running is not None:
            if running.requested_by == user.id and list(running.datasets) == chosen:
                audit(conn, now, user, "extract.join", school_id=school_id, request_id=running.id)
                return _view(conn, running), True
            audit(
                conn,
                now,
                user,
                "extract.start",
                "refused",
                school_id=school_id,
                request_id=running.id,
                detail={"reason": "an extract is already running"},
            )
            refused = running.id
        else:
            refused = None
            request_id = new_id("req")
            conn.execute(
                R.insert().values(
                    id=request_id,
                    school_id=school_id,
                    requested_by=user.id,
                    datasets=chosen,
                    state="pending",
                    recipient_public_key=me.public_key,
                    recipient_kid=me.public_kid,
                    error_count=0,
                    created_at=now,
                    updated_at=now,
                    attempts=0,
                )
            )
            audit(
                conn,
                now,
                user,
                "extract.start",
                school_id=school_id,
                request_id=request_id,
                detail={"datasets": chosen},
            )
            row = conn.execute(sa.select(R).where(R.c.id == request_id)).one()
            return _view(conn, row), False
    raise Conflict(
        f"an extract is already running for this school ({refused}); wait for it to finish "
        "or follow it, rather than starting another",
        request_id=refused,
    )


def _view(conn: sa.Connection, row: Any) -> dict[str, Any]:
    who = conn.execute(
        sa.select(schema.users.c.name).where(schema.users.c.id == row.requested_by)
    ).scalar()
    upload = conn.execute(
        sa.select(schema.upload).where(schema.upload.c.request_id == row.id)
    ).first()
    return {
        "id": row.id,
        "school_id": row.school_id,
        "state": row.state,
        "datasets": list(row.datasets),
        "requested_by": who,
        "recipient_kid": row.recipient_kid,
        "detail": row.detail,
        "summary": row.summary,
        "error_count": row.error_count,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "claimed_at": row.claimed_at,
        "finished_at": row.finished_at,
        "upload": None
        if upload is None
        else {
            "size": upload.size,
            "sha256": upload.sha256,
            "received": upload.received,
            "completed_at": upload.completed_at,
            "expires_at": upload.expires_at,
            "acknowledged_at": upload.acknowledged_at,
            "deleted_at": upload.deleted_at,
            "deleted_why": upload.deleted_why,
        },
    }


def load_request(conn: sa.Connection, principal: Principal, request_id: str) -> Any:
    row = conn.execute(sa.select(R).where(R.c.id == request_id)).first()
    if row is None:
        raise NotFound(f"no extract request {request_id}")
    if isinstance(principal, Integrator) and principal.request_id != request_id:
        raise Forbidden("this Integrator Token belongs to another request")
    try:
        require_school(principal, row.school_id)
    except NotFound:
        raise NotFound(f"no extract request {request_id}") from None
    return row


def get_request(
    engine: sa.Engine, now: datetime, principal: Principal, request_id: str
) -> dict[str, Any]:
    if not isinstance(principal, Agent | Integrator):
        require_user(engine, now, principal, VIEW, "extract.view")
    with reader(engine) as conn:
        return _view(conn, load_request(conn, principal, request_id))


def list_requests(
    engine: sa.Engine, now: datetime, principal: Principal, school_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    require_user(engine, now, principal, VIEW, "extract.list", school_id=school_id)
    with reader(engine) as conn:
        rows = conn.execute(
            sa.select(R)
            .where(R.c.school_id == school_id)
            .order_by(R.c.created_at.desc(), R.c.id.desc())
            .limit(max(1, min(limit, 500)))
        ).all()
        return [_view(conn, r) for r in rows]


def pending_jobs(engine: sa.Engine, agent: Agent) -> list[dict[str, Any]]:
    """What this agent should do: its school's pending requests, oldest first."""
    with reader(engine) as conn:
        rows = conn.execute(
            sa.select(R, schema.users.c.name.label("requester"))
            .join(schema.users, schema.users.c.id == R.c.requested_by)
            .where(R.c.school_id == agent.school_id, R.c.state == "pending")
            .order_by(R.c.created_at, R.c.id)
        ).all()
    return [
        {
            "request_id": r.id,
            "school_id": r.school_id,
            "datasets": list(r.datasets),
            "recipient_public_key": r.recipient_public_key,
            "recipient_kid": r.recipient_kid,
            "requested_by": r.requester,
            "created_at": r.created_at,
        }
        for r in rows
    ]


def claim(engine: sa.Engine, now: datetime, agent: Agent, request_id: str) -> dict[str, Any]:
    """Take a pending request for this agent; refused if anyone (this agent too) has."""
    with writer(engine) as conn:
        row = load_request(conn, agent, request_id)
        done = conn.execute(
            R.update()
            .where(R.c.id == request_id, R.c.state == "pending")
            .values(state="claimed", agent_id=agent.id, claimed_at=now, updated_at=now)
        ).rowcount
        if done:
            audit(conn, now, agent, "extract.claim", school_id=row.school_id, request_id=row.id)
            return _view(conn, conn.execute(sa.select(R).where(R.c.id == request_id)).one())
    mine = "this agent" if row.agent_id == agent.id else "another agent"
    raise Conflict(f"request {request_id} is {row.state} (claimed by {mine}); not processed twice")


def issue_integrator_token(
    engine: sa.Engine, now: datetime, agent: Agent, request_id: str, lifetime: timedelta
) -> dict[str, Any]:
    """The Integrator Token for a claimed request, once the agent's MIS login succeeded.

    Bound to the request, its school and datasets; a new one revokes the previous one.
    """
    token = new_token("integrator")
    t = schema.integrator_token
    with writer(engine) as conn:
        row = load_request(conn, agent, request_id)
        if row.agent_id != agent.id or row.state not in ("claimed", "extracting", "uploading"):
            audit(
                conn,
                now,
                agent,
                "integrator_token.issue",
                "denied",
                school_id=row.school_id,
                request_id=row.id,
            )
            denied = True
        else:
            denied = False
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
                    agent_id=agent.id,
                    datasets=list(row.datasets),
                    digest=digest(token),
                    issued_at=now,
                    expires_at=expires,
                )
            )
            state = "extracting" if row.state == "claimed" else row.state
            conn.execute(R.update().where(R.c.id == request_id).values(state=state, updated_at=now))
            audit(
                conn,
                now,
                agent,
                "integrator_token.issue",
                school_id=row.school_id,
                request_id=row.id,
                detail={"token": token_id},
            )
    if denied:
        raise Forbidden(
            f"request {request_id} is {row.state} and not this agent's to work on: no "
            "Integrator Token for it"
        )
    return {
        "token": token,
        "expires_at": expires,
        "request_id": request_id,
        "school_id": row.school_id,
        "datasets": list(row.datasets),
    }


def working(conn: sa.Connection, integ: Integrator, request_id: str) -> Any:
    row = load_request(conn, integ, request_id)
    if row.state not in ("extracting", "uploading"):
        raise Conflict(f"request {request_id} is {row.state}: nothing more is accepted for it")
    return row


def progress(
    engine: sa.Engine,
    now: datetime,
    integ: Integrator,
    request_id: str,
    detail: str | None,
    lease: timedelta | None = None,
) -> dict[str, Any]:
    """A status call: the agent is still at work (and what it is doing)."""
    with writer(engine) as conn:
        working(conn, integ, request_id)
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(updated_at=now, detail=(detail or "")[:300] or None)
        )
        if lease is not None:
            from misbridge.hub.workers import extend_lease

            extend_lease(conn, request_id, now, lease)
        return _view(conn, conn.execute(sa.select(R).where(R.c.id == request_id)).one())


def fail(
    engine: sa.Engine,
    storage: UploadStorage,
    now: datetime,
    principal: Principal,
    request_id: str,
    reason: str,
) -> dict[str, Any]:
    """The agent says the request cannot be done (with its Integrator Token, or with its
    own token before it has one, e.g. when the MIS login was refused). A partial upload
    is deleted."""
    from misbridge.hub.uploads import drop_upload

    with writer(engine) as conn:
        row = load_request(conn, principal, request_id)
        allowed = (
            isinstance(principal, Integrator) and row.state in ("extracting", "uploading")
        ) or (
            isinstance(principal, Agent) and row.agent_id == principal.id and row.state == "claimed"
        )
        if allowed:
            conn.execute(
                R.update()
                .where(R.c.id == request_id)
                .values(state="failed", detail=reason[:300], updated_at=now, finished_at=now)
            )
            revoke_tokens(conn, request_id, now)
            drop_upload(conn, storage, now, request_id, "failed")
            audit(
                conn,
                now,
                principal,
                "extract.fail",
                school_id=row.school_id,
                request_id=request_id,
                detail={"reason": reason[:300]},
            )
            return _view(conn, conn.execute(sa.select(R).where(R.c.id == request_id)).one())
    audit_now(
        engine,
        now,
        principal,
        "extract.fail",
        "denied",
        school_id=row.school_id,
        request_id=request_id,
    )
    raise Conflict(f"request {request_id} is {row.state}: it cannot be failed by this caller now")


def revoke_tokens(conn: sa.Connection, request_id: str, now: datetime) -> None:
    t = schema.integrator_token
    conn.execute(
        t.update()
        .where(t.c.request_id == request_id, t.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
