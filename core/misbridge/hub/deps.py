"""FastAPI dependencies: the hub's shared context and the caller of each request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from misbridge.hub.accounts import authenticate
from misbridge.hub.context import HubContext
from misbridge.hub.principals import Principal

__all__ = ["SESSION_COOKIE", "Caller", "Ctx", "bearer", "caller", "context"]

SESSION_COOKIE = "misbridge_session"


def context(request: Request) -> HubContext:
    ctx: HubContext = request.app.state.hub
    return ctx


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def caller(request: Request, ctx: Annotated[HubContext, Depends(context)]) -> Principal:
    """The API caller, from ``Authorization: Bearer <token>`` (never from a cookie, so a
    browser cannot be tricked into calling the API)."""
    return authenticate(ctx.engine, ctx.now(), bearer(request), via="api")


Ctx = Annotated[HubContext, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
