"""The agent's API (its own token) and the Integrator Token's API (one request).

Every call here is made by the school's agent, outbound: activation, the long poll for
work, claiming a request, obtaining the Integrator Token once the MIS login succeeded,
and then, with that token only, status calls, the run's errors and the sealed upload.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request

from misbridge.hub import api_models as m
from misbridge.hub import extracts, retention, run_errors, schema, schools, uploads
from misbridge.hub.api_users import ERRORS
from misbridge.hub.database import reader
from misbridge.hub.deps import Caller, Ctx
from misbridge.hub.errors import BadRequest, TooLarge
from misbridge.hub.principals import Agent, Integrator, require_kind
from misbridge.hub.protocol import HEADER_OFFSET, parse_content_digest

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERRORS)
AgentVersion = Annotated[str | None, Header(alias="Misbridge-Agent-Version", max_length=64)]


@router.post("/agent/activate", response_model=m.ActivateOut, status_code=201, tags=["agent"])
def activate(body: m.ActivateIn, ctx: Ctx) -> dict[str, Any]:
    """Register an agent with a one-time activation code and its X25519 public key."""
    return schools.activate_agent(
        ctx.engine,
        ctx.now(),
        body.code,
        body.public_key,
        version=body.version,
        hostname=body.hostname,
    )


def _agent(ctx: Any, who: Any, action: str) -> Agent:
    return require_kind(ctx.engine, ctx.now(), who, Agent, action)


@router.get("/agent/me", response_model=m.AgentMe, tags=["agent"])
def agent_me(ctx: Ctx, who: Caller) -> dict[str, Any]:
    agent = _agent(ctx, who, "agent.me")
    hold = ctx.settings.poll_hold_seconds
    school = schools.get_school(
        ctx.engine, ctx.now(), agent, agent.school_id, hold, ctx.waiters.online()
    )
    return {"agent_id": agent.id, "school": school}


@router.get("/agent/jobs", response_model=m.Jobs, tags=["agent"])
async def jobs(
    ctx: Ctx,
    who: Caller,
    wait: Annotated[float, Query(ge=0, le=120)] = 0,
    version: AgentVersion = None,
) -> dict[str, Any]:
    """Long poll: answers as soon as the school has a pending request, or after ``wait``
    seconds (at most the hub's hold, ~50 s) with no jobs."""
    agent = _agent(ctx, who, "agent.jobs")
    await ctx.run(schools.agent_seen, ctx.engine, ctx.now(), agent, version, None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(wait, ctx.settings.poll_hold_seconds)
    key = f"school:{agent.school_id}"
    with ctx.waiters.connected(agent.id), ctx.waiters.listen(key) as event:
        while True:
            event.clear()
            found = await ctx.run(extracts.pending_jobs, ctx.engine, agent)
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return {"jobs": found}
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


@router.get("/agent/jobs/{request_id}", response_model=m.ExtractOut, tags=["agent"])
def job(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    agent = _agent(ctx, who, "agent.job")
    return extracts.get_request(ctx.engine, ctx.now(), agent, request_id)


@router.post("/agent/jobs/{request_id}/claim", response_model=m.ExtractOut, tags=["agent"])
def claim(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Take the request (once: a second claim is refused, even by this agent)."""
    agent = _agent(ctx, who, "extract.claim")
    done = extracts.claim(ctx.engine, ctx.now(), agent, request_id)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.post(
    "/agent/jobs/{request_id}/token",
    response_model=m.IntegratorTokenOut,
    status_code=201,
    tags=["agent"],
)
def integrator_token(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The Integrator Token, once the agent's MIS login succeeded (a new one replaces
    the last, so a long extract renews it)."""
    agent = _agent(ctx, who, "integrator_token.issue")
    lifetime = ctx.seconds(ctx.settings.integrator_token_seconds)
    done = extracts.issue_integrator_token(ctx.engine, ctx.now(), agent, request_id, lifetime)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.post("/agent/jobs/{request_id}/fail", response_model=m.ExtractOut, tags=["agent"])
def agent_fail(request_id: str, body: m.ReasonIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The request cannot be done and no Integrator Token was issued (e.g. the MIS
    refused the login)."""
    agent = _agent(ctx, who, "extract.fail")
    done = extracts.fail(ctx.engine, ctx.storage, ctx.now(), agent, request_id, body.reason)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.get("/agent/history", response_model=m.History, tags=["agent"])
def history(
    ctx: Ctx, who: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    """What the hub holds or held of this school: every request and its upload's fate."""
    agent = _agent(ctx, who, "agent.history")
    r, u, users = schema.extract_request, schema.upload, schema.users
    with reader(ctx.engine) as conn:
        rows = conn.execute(
            sa.select(r, u.c.size, u.c.acknowledged_at, users.c.name.label("requester"))
            .outerjoin(u, u.c.request_id == r.c.id)
            .join(users, users.c.id == r.c.requested_by)
            .where(r.c.school_id == agent.school_id)
            .order_by(r.c.created_at.desc(), r.c.id.desc())
            .limit(limit)
        ).all()
    return {
        "requests": [
            {
                "id": row.id,
                "state": row.state,
                "datasets": list(row.datasets),
                "requested_by": row.requester,
                "created_at": row.created_at,
                "finished_at": row.finished_at,
                "size": row.size,
                "acknowledged_at": row.acknowledged_at,
            }
            for row in rows
        ]
    }


@router.post("/agent/purge", response_model=m.PurgeOut, tags=["agent"])
def purge(body: m.PurgeIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Delete everything the hub still holds for this school (confirm with its id)."""
    agent = _agent(ctx, who, "school.purge")
    if body.confirm != agent.school_id:
        raise BadRequest("confirm must be this agent's school id; nothing was deleted")
    return retention.purge_school(ctx.engine, ctx.storage, ctx.now(), agent)


# -- with the Integrator Token -------------------------------------------------------


def _integrator(ctx: Any, who: Any, action: str) -> Integrator:
    return require_kind(ctx.engine, ctx.now(), who, Integrator, action)


@router.post("/runs/{request_id}/status", response_model=m.ExtractOut, tags=["run"])
def status(request_id: str, body: m.StatusIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    integ = _integrator(ctx, who, "run.status")
    lease = ctx.seconds(ctx.settings.worker_lease_seconds)
    done = extracts.progress(ctx.engine, ctx.now(), integ, request_id, body.detail, lease)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.post("/runs/{request_id}/fail", response_model=m.ExtractOut, tags=["run"])
def run_fail(request_id: str, body: m.ReasonIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    integ = _integrator(ctx, who, "run.fail")
    done = extracts.fail(ctx.engine, ctx.storage, ctx.now(), integ, request_id, body.reason)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.put("/runs/{request_id}/errors", response_model=m.RunErrorsOut, tags=["run"])
def put_errors(request_id: str, body: m.RunErrorsIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The run's record errors (ids, codes, fields; no personal values) and counts."""
    integ = _integrator(ctx, who, "run.errors")
    stored = run_errors.record_errors(
        ctx.engine,
        ctx.now(),
        integ,
        request_id,
        [e.model_dump() for e in body.errors],
        body.summary,
        ctx.settings.max_errors,
    )
    return {"stored": stored}


@router.post("/runs/{request_id}/upload", response_model=m.UploadStatusOut, tags=["run"])
def begin_upload(request_id: str, body: m.UploadIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Declare the sealed upload (size, SHA-256); again after a break, to resume."""
    integ = _integrator(ctx, who, "upload.begin")
    done = uploads.begin_upload(
        ctx.engine,
        ctx.now(),
        integ,
        request_id,
        body.size,
        body.sha256,
        ctx.settings.chunk_bytes,
        ctx.settings.max_upload_bytes,
    )
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.get("/runs/{request_id}/upload", response_model=m.UploadStatusOut, tags=["run"])
def upload_status(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Where the upload is up to (the offset to send from)."""
    integ = _integrator(ctx, who, "upload.status")
    return uploads.upload_status(ctx.engine, integ, request_id)


@router.patch(
    "/runs/{request_id}/upload",
    response_model=m.UploadStatusOut,
    tags=["run"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/offset+octet-stream": {
                    "schema": {"type": "string", "format": "binary"}
                }
            },
        }
    },
)
async def upload_chunk(
    request_id: str,
    request: Request,
    ctx: Ctx,
    who: Caller,
    offset: Annotated[int, Header(alias=HEADER_OFFSET, ge=0, le=2**62)],
    digest: Annotated[str | None, Header(alias="Content-Digest", max_length=200)] = None,
) -> dict[str, Any]:
    """One chunk at ``Upload-Offset``, with its ``Content-Digest`` (sha-256)."""
    integ = _integrator(ctx, who, "upload.chunk")
    limit = ctx.settings.chunk_bytes
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise TooLarge(f"a chunk may be up to {limit} bytes")
    return await ctx.run(  # type: ignore[no-any-return]
        uploads.write_chunk,
        ctx.engine,
        ctx.storage,
        ctx.now(),
        integ,
        request_id,
        offset,
        bytes(body),
        parse_content_digest(digest),
    )


@router.post("/runs/{request_id}/upload/complete", response_model=m.UploadStatusOut, tags=["run"])
def complete(request_id: str, body: m.CompleteIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Every byte is in: the hub checks the SHA-256 and tells the integrator."""
    integ = _integrator(ctx, who, "upload.complete")
    retention_for = ctx.seconds(ctx.settings.upload_retention_seconds)
    done = uploads.complete_upload(
        ctx.engine, ctx.storage, ctx.now(), integ, request_id, body.datasets, retention_for
    )
    ctx.waiters.wake(f"request:{request_id}")
    return done
