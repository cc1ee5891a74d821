"""The hub as an ASGI application (FastAPI), with its OpenAPI description at
``/api/v1/openapi.json``.

- **TLS is required** except from the loopback interface: a plain-HTTP request from
  any other address is refused before it reaches a handler. Behind a reverse proxy
  that terminates TLS, run uvicorn with ``--forwarded-allow-ips`` so that it takes the
  scheme from ``X-Forwarded-Proto``.
- A background sweeper wakes agents for requests another hub process created, runs
  expiries and timeouts, and delivers webhooks.
- Errors are JSON ``{"error": code, "message": ...}`` with the status of the refusal;
  an unexpected error is logged by type and answered with a bare 500 (never details).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from misbridge._version import __version__
from misbridge.hub import schema
from misbridge.hub.context import HubContext
from misbridge.hub.database import open_database, reader, utcnow
from misbridge.hub.errors import HubError
from misbridge.hub.protocol import is_loopback
from misbridge.hub.retention import sweep
from misbridge.hub.settings import HubSettings
from misbridge.hub.storage import FileStorage, UploadStorage
from misbridge.hub.webhooks import deliver_due, load_signing_key

__all__ = ["create_app"]

log = structlog.get_logger()

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


class RequireTLS:
    """Refuse plain HTTP unless the client is on the loopback interface."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("scheme") != "https":
            client = scope.get("client")
            if not is_loopback(client[0] if client else None):
                response = JSONResponse(
                    {
                        "error": "tls-required",
                        "message": "this hub accepts HTTPS only (plain HTTP only from the "
                        "loopback interface)",
                    },
                    status_code=403,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(
    settings: HubSettings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    storage: UploadStorage | None = None,
    webhook_transport: Any = None,
    dispatch: Callable[[str, str], None] | None = None,
) -> FastAPI:
    """The hub application; its database is migrated when it is created. ``dispatch``
    replaces the Celery broker for worker-run requests (tests)."""
    from misbridge.hub import api_agents, api_users, api_workers, web
    from misbridge.hub.dispatch import Dispatcher

    settings = settings or HubSettings()
    engine = open_database(settings.database_url)
    ctx = HubContext(
        engine=engine,
        settings=settings,
        storage=storage or FileStorage(settings.storage_path),
        signer=load_signing_key(settings.key_path),
        clock=clock,
        webhook_transport=webhook_transport,
        dispatcher=Dispatcher(settings.broker_url, send=dispatch, prefix=settings.queue_prefix),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.waiters.bind(asyncio.get_running_loop())
        task = asyncio.create_task(_sweeper(ctx))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            engine.dispose()

    app = FastAPI(
        title="misbridge hub",
        version=__version__,
        description="Remote extraction for schools: Start Extract, agents, sealed uploads.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.hub = ctx
    app.include_router(api_users.router)
    app.include_router(api_agents.router)
    app.include_router(api_workers.router)
    app.include_router(web.router)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        if web.wants_html(request):
            return web.error_page(request, exc)
        return JSONResponse(exc.as_dict(), status_code=exc.status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("hub.unexpected", error=type(exc).__name__, path=request.url.path)
        return JSONResponse(
            {"error": "internal", "message": "the hub could not do that; see its log"},
            status_code=500,
        )

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    app.add_middleware(RequireTLS)
    return app


async def _sweeper(ctx: HubContext) -> None:
    """Wake agents for requests made elsewhere; expiries, timeouts, webhooks."""
    seen: datetime | None = None
    rounds = 0
    while True:
        await asyncio.sleep(ctx.settings.sweep_seconds)
        rounds += 1
        try:
            seen = await ctx.run(_wake_new, ctx, seen)
            await ctx.run(_night_work, ctx)
            if rounds % 5 == 1:
                done = await ctx.run(sweep, ctx.engine, ctx.storage, ctx.now(), ctx.settings)
                if any(done.values()):
                    log.info("hub.sweep", **done)
            await ctx.run(
                deliver_due,
                ctx.engine,
                ctx.now(),
                ctx.settings,
                ctx.signer,
                transport=ctx.webhook_transport,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the sweeper must outlive a database hiccup
            log.warning("hub.sweep_failed", error=type(exc).__name__)


def _night_work(ctx: HubContext) -> None:
    """Start what schedules say is due, report missed windows, send worker tasks."""
    from misbridge.hub.schedules import run_schedules

    now = ctx.now()
    run_schedules(ctx.engine, now, ctx.settings)
    ctx.dispatcher.run(ctx.engine, now, ctx.seconds(ctx.settings.worker_lease_seconds))


def _wake_new(ctx: HubContext, since: datetime | None) -> datetime:
    r = schema.extract_request
    now = ctx.now()
    query = sa.select(r.c.school_id).where(r.c.state == "pending").distinct()
    if since is not None:
        query = query.where(r.c.updated_at >= since)
    with reader(ctx.engine) as conn:
        for (school_id,) in conn.execute(query):
            ctx.waiters.wake(f"school:{school_id}")
    return now
