"""The workers' API (a worker's own token, ``mbw_``): claim a worker-run request, get its
Integrator Token, or fail it. Everything after that is the agent's path, with the
Integrator Token (:mod:`misbridge.hub.api_agents`); schedules are managed here too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from misbridge.hub import api_models as m
from misbridge.hub import schedules, workers
from misbridge.hub.api_users import ERRORS
from misbridge.hub.deps import Caller, Ctx
from misbridge.hub.principals import ADMIN, VIEW, Worker, require_kind, require_user

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _worker(ctx: Any, who: Any, action: str) -> Worker:
    return require_kind(ctx.engine, ctx.now(), who, Worker, action)


@router.post("/worker/jobs/{request_id}/claim", tags=["worker"])
def claim(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Take a worker-run request (pending, or whose worker's lease ran out): the job,
    with the school's credentials sealed to the workers' key. 409 with ``state`` for a
    done request, with ``retry_after`` while another worker holds it."""
    worker = _worker(ctx, who, "extract.claim")
    lease = ctx.seconds(ctx.settings.worker_lease_seconds)
    job = workers.claim_job(ctx.engine, ctx.storage, ctx.now(), worker, request_id, lease)
    ctx.waiters.wake(f"request:{request_id}")
    return job


@router.post(
    "/worker/jobs/{request_id}/token",
    response_model=m.IntegratorTokenOut,
    status_code=201,
    tags=["worker"],
)
def token(request_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    worker = _worker(ctx, who, "integrator_token.issue")
    return workers.worker_token(
        ctx.engine,
        ctx.now(),
        worker,
        request_id,
        ctx.seconds(ctx.settings.integrator_token_seconds),
        ctx.seconds(ctx.settings.worker_lease_seconds),
    )


@router.post("/worker/jobs/{request_id}/fail", tags=["worker"])
def fail(request_id: str, body: m.ReasonIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The request cannot be done, for good (refused credentials, a wrong setting)."""
    worker = _worker(ctx, who, "extract.fail")
    done = workers.fail_job(ctx.engine, ctx.storage, ctx.now(), worker, request_id, body.reason)
    ctx.waiters.wake(f"request:{request_id}")
    return done


@router.get("/schedules", tags=["schedules"])
def list_schedules(ctx: Ctx, who: Caller) -> list[dict[str, Any]]:
    user = require_user(ctx.engine, ctx.now(), who, VIEW, "schedule.list")
    return schedules.list_schedules(ctx.engine, user)


@router.post("/schedules", status_code=201, tags=["schedules"])
def create_schedule(body: m.ScheduleIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A nightly window for some schools, run as ``user`` (whose key extracts are
    sealed to)."""
    admin = require_user(ctx.engine, ctx.now(), who, ADMIN, "schedule.create")
    return schedules.create_schedule(
        ctx.engine,
        ctx.now(),
        admin,
        body.name,
        body.user,
        body.schools,
        body.window,
        body.datasets,
    )


@router.get("/schedules/{schedule_id}/runs", tags=["schedules"])
def schedule_runs(
    schedule_id: str, ctx: Ctx, who: Caller, state: str | None = None
) -> list[dict[str, Any]]:
    """Each school's slot on each night: due, started, ready, missed or failed."""
    user = require_user(ctx.engine, ctx.now(), who, VIEW, "schedule.runs")
    return schedules.schedule_runs(ctx.engine, user, schedule_id, state=state)
