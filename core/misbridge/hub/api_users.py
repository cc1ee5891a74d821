"""The integrator's API: users and tokens, schools, activation codes, Start Extract,
run history and errors, retrieval (key, download, acknowledgement), the audit log."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse

from misbridge._version import __version__
from misbridge.hub import accounts, extracts, run_errors, schema, schools, uploads
from misbridge.hub import api_models as m
from misbridge.hub.database import reader
from misbridge.hub.deps import Caller, Ctx
from misbridge.hub.principals import ADMIN, IMPORT_DATA, VIEW, require_user
from misbridge.hub.protocol import HEADER_RETRIEVAL_KEY, PROTOCOL_VERSION
from misbridge.hub.webhooks import signing_public_key

__all__ = ["router"]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ErrorBody} for code in (400, 401, 403, 404, 409, 410, 413)
}
log = structlog.get_logger()
router = APIRouter(prefix="/api/v1", responses=ERRORS)
SchoolId = Annotated[str, Query(max_length=64)]
RetrievalKey = Annotated[str | None, Header(alias=HEADER_RETRIEVAL_KEY, max_length=100)]


@router.get("/hub", response_model=m.HubInfo, tags=["hub"])
def hub_info(ctx: Ctx) -> dict[str, Any]:
    """The hub's protocol version and webhook signing key (no token needed)."""
    return {
        "protocol": PROTOCOL_VERSION,
        "version": __version__,
        "signing_key": signing_public_key(ctx.signer),
    }


@router.get("/me", response_model=m.Me, tags=["users"])
def me(ctx: Ctx, who: Caller) -> dict[str, Any]:
    user = require_user(ctx.engine, ctx.now(), who, VIEW, "me.view")
    return accounts.user_view(ctx.engine, user)


@router.put("/me/public-key", response_model=m.PublicKeyOut, tags=["users"])
def set_public_key(body: m.PublicKeyIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Register the X25519 key extracts you start are sealed to (keep its private half)."""
    user = require_user(ctx.engine, ctx.now(), who, IMPORT_DATA, "user.public_key")
    return {"kid": accounts.set_public_key(ctx.engine, ctx.now(), user, body.public_key)}


@router.put("/me/webhook", status_code=204, tags=["users"])
def set_webhook(body: m.WebhookIn, ctx: Ctx, who: Caller) -> Response:
    """Where the hub POSTs "extract.ready" (https; null to stop)."""
    user = require_user(ctx.engine, ctx.now(), who, IMPORT_DATA, "user.webhook")
    accounts.set_webhook(ctx.engine, ctx.now(), user, body.url)
    return Response(status_code=204)


@router.post("/users", response_model=m.UserOut, status_code=201, tags=["users"])
def create_user(body: m.UserIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    admin = require_user(ctx.engine, ctx.now(), who, ADMIN, "user.create")
    return accounts.create_user(
        ctx.engine,
        ctx.now(),
        admin,
        body.name,
        body.permissions,
        schools=body.schools,
        password=body.password,
    )


@router.post("/users/{user_id}/tokens", response_model=m.TokenOut, status_code=201, tags=["users"])
def create_token(user_id: str, body: m.TokenIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    admin = require_user(ctx.engine, ctx.now(), who, ADMIN, "token.create")
    token_id, token = accounts.create_token(
        ctx.engine, ctx.now(), admin, user_id[:64], label=body.label
    )
    return {"id": token_id, "token": token}


@router.delete("/tokens/{token_id}", status_code=204, tags=["users"])
def revoke_token(token_id: str, ctx: Ctx, who: Caller) -> Response:
    admin = require_user(ctx.engine, ctx.now(), who, ADMIN, "token.revoke")
    accounts.revoke_token(ctx.engine, ctx.now(), admin, token_id[:64])
    return Response(status_code=204)


@router.get("/schools", response_model=list[m.SchoolOut], tags=["schools"])
def list_schools(ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    """Your schools, each with its agent's state (online, last seen, version)."""
    user = require_user(ctx.engine, ctx.now(), who, VIEW, "school.list")
    hold = ctx.settings.poll_hold_seconds
    return schools.list_schools(ctx.engine, ctx.now(), user, hold, ctx.waiters.online())


@router.post("/schools", response_model=m.SchoolOut, status_code=201, tags=["schools"])
def create_school(body: m.SchoolIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    admin = require_user(ctx.engine, ctx.now(), who, ADMIN, "school.create")
    return schools.create_school(
        ctx.engine,
        ctx.now(),
        admin,
        body.name,
        body.mis,
        urn=body.urn,
        datasets=body.datasets or schools.DEFAULT_DATASETS,
        runner=body.runner,
        settings=body.settings,
    )


@router.get("/schools/{school_id}", response_model=m.SchoolOut, tags=["schools"])
def get_school(school_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    require_user(ctx.engine, ctx.now(), who, VIEW, "school.view", school_id=school_id)
    hold = ctx.settings.poll_hold_seconds
    return schools.get_school(ctx.engine, ctx.now(), who, school_id, hold, ctx.waiters.online())


@router.post(
    "/schools/{school_id}/activation-codes",
    response_model=m.ActivationCodeOut,
    status_code=201,
    tags=["schools"],
)
def create_activation_code(school_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A one-time code for the school's agent (``misbridge agent activate CODE``)."""
    admin = require_user(
        ctx.engine, ctx.now(), who, ADMIN, "activation_code.create", school_id=school_id
    )
    lifetime = ctx.seconds(ctx.settings.activation_code_seconds)
    code, expires = schools.create_activation_code(
        ctx.engine, ctx.now(), admin, school_id, lifetime
    )
    return {"code": code, "expires_at": expires}


@router.post(
    "/schools/{school_id}/extracts",
    response_model=m.ExtractOut,
    status_code=201,
    tags=["extracts"],
    responses={200: {"model": m.ExtractOut, "description": "Joined the running extract"}},
)
def start_extract(
    school_id: str, body: m.ExtractIn, ctx: Ctx, who: Caller, response: Response
) -> dict[str, Any]:
    """Start Extract (needs ``import-data``): the school's agent is told at once."""
    request, joined = extracts.start_extract(ctx.engine, ctx.now(), who, school_id, body.datasets)
    ctx.waiters.wake(f"school:{school_id}")
    if not joined:  # a worker-run school's task goes to the broker now (else: next sweep)
        try:
            ctx.dispatcher.run(
                ctx.engine, ctx.now(), ctx.seconds(ctx.settings.worker_lease_seconds)
            )
        except Exception as exc:  # the request is recorded; the sweeper sends it later
            log.warning("hub.dispatch.deferred", request=request["id"], error=type(exc).__name__)
    if joined:
        response.status_code = 200
    return {**request, "joined": joined}


@router.get("/schools/{school_id}/extracts", response_model=list[m.ExtractOut], tags=["extracts"])
def list_extracts(
    school_id: str, ctx: Ctx, who: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The school's run history, newest first."""
    return extracts.list_requests(ctx.engine, ctx.now(), who, school_id, limit)


@router.get("/extracts/{request_id}", response_model=m.ExtractOut, tags=["extracts"])
async def get_extract(
    request_id: str,
    ctx: Ctx,
    who: Caller,
    wait: Annotated[float, Query(ge=0, le=120)] = 0,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """A request's state; with ``wait`` and ``state``, held until it leaves that state."""
    await ctx.run(require_user, ctx.engine, ctx.now(), who, VIEW, "extract.view")
    found: dict[str, Any] = await ctx.run(
        extracts.get_request, ctx.engine, ctx.now(), who, request_id
    )
    if not wait or state is None or found["state"] != state:
        return found
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    with ctx.waiters.listen(f"request:{request_id}") as event:
        while found["state"] == state:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event.clear()
            found = await ctx.run(extracts.get_request, ctx.engine, ctx.now(), who, request_id)
            if found["state"] != state:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, ctx.settings.sweep_seconds))
    return found


@router.get("/extracts/{request_id}/errors", response_model=list[m.RunErrorRow], tags=["extracts"])
def extract_errors(request_id: str, ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    """The run's record errors: ids, codes and fields, never a personal value."""
    require_user(ctx.engine, ctx.now(), who, VIEW, "extract.errors")
    return run_errors.run_errors(ctx.engine, ctx.now(), who, request_id)


@router.post(
    "/extracts/{request_id}/retrieval-key",
    response_model=m.RetrievalKeyOut,
    status_code=201,
    tags=["retrieval"],
)
def retrieval_key(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A new retrieval key for a ready extract (replaces any earlier one)."""
    lifetime = ctx.seconds(ctx.settings.retrieval_key_seconds)
    return uploads.issue_retrieval_key(ctx.engine, ctx.now(), who, request_id, lifetime)


@router.get(
    "/extracts/{request_id}/download",
    tags=["retrieval"],
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(request_id: str, ctx: Ctx, who: Caller, key: RetrievalKey = None) -> Response:
    """The sealed extract (ciphertext only the requester's key opens). Check its SHA-256,
    then acknowledge; until then the upload is kept and the download may be repeated."""
    size, sha256, stream = uploads.open_download(
        ctx.engine, ctx.storage, ctx.now(), who, request_id, key
    )
    headers = {"Content-Length": str(size), "X-Content-SHA256": sha256}
    return StreamingResponse(stream, media_type="application/octet-stream", headers=headers)


@router.post("/extracts/{request_id}/ack", response_model=m.AckOut, tags=["retrieval"])
def acknowledge(
    request_id: str, body: m.AckIn, ctx: Ctx, who: Caller, key: RetrievalKey = None
) -> dict[str, Any]:
    """You have the extract and its SHA-256 matched: the hub deletes the upload."""
    done = uploads.acknowledge(
        ctx.engine, ctx.storage, ctx.now(), who, request_id, key, body.sha256
    )
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.get("/audit", response_model=list[m.AuditRow], tags=["hub"])
def audit_log(
    ctx: Ctx,
    who: Caller,
    school_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Who did what, newest first (administrators)."""
    require_user(ctx.engine, ctx.now(), who, ADMIN, "audit.view")
    return audit_rows(ctx, school_id, limit)


def audit_rows(ctx: Any, school_id: str | None, limit: int) -> list[dict[str, Any]]:
    a = schema.audit
    query = sa.select(a).order_by(a.c.id.desc()).limit(limit)
    if school_id:
        query = query.where(a.c.school_id == school_id)
    with reader(ctx.engine) as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
