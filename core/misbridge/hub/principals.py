"""Who is calling, what they may do, and the audit log of who did what.

Four kinds of caller, each with its own kind of bearer secret (see
:mod:`misbridge.hub.tokens`):

- :class:`User`: an integrator's person or service account, with permissions
  (``view``; ``import-data`` to start extracts and retrieve them; ``admin`` to manage
  users, schools and activation codes, and to read the audit log) over all schools or
  a list of them;
- :class:`Agent`: a school's on-site Host, for its own school only;
- :class:`Integrator`: an Integrator Token, for one extract request only;
- :data:`ANONYMOUS`.

A caller asking about a school it has no access to gets "not found" (the hub does not
confirm which schools exist); one that may see the school but lacks a permission gets
"forbidden", and the refusal is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
from attrs import frozen

from misbridge.hub import schema
from misbridge.hub.database import writer
from misbridge.hub.errors import Forbidden, NotFound, Unauthorized

__all__ = [
    "ANONYMOUS",
    "IMPORT_DATA",
    "PERMISSIONS",
    "VIEW",
    "Agent",
    "Anonymous",
    "Integrator",
    "Principal",
    "User",
    "Worker",
    "audit",
    "audit_now",
    "require_kind",
    "require_school",
    "require_user",
]

log = structlog.get_logger()

VIEW = "view"
IMPORT_DATA = "import-data"
ADMIN = "admin"
PERMISSIONS = (VIEW, IMPORT_DATA, ADMIN)


@frozen
class User:
    id: str
    name: str
    permissions: frozenset[str]
    schools: frozenset[str] | None  # None: every school
    token_id: str
    via: str  # "api" or "session"

    kind = "user"

    def has(self, permission: str) -> bool:
        if permission == VIEW:
            return bool(self.permissions)
        return permission in self.permissions

    def sees(self, school_id: str) -> bool:
        return self.schools is None or school_id in self.schools


@frozen
class Agent:
    id: str
    school_id: str
    name: str

    kind = "agent"


@frozen
class Worker:
    """One of the integrator's Celery workers: it extracts the schools whose runner is
    "worker" (cloud MIS), one request at a time under a lease."""

    id: str
    name: str
    kind = "worker"


@frozen
class Integrator:
    token_id: str
    request_id: str
    school_id: str
    agent_id: str
    datasets: tuple[str, ...]
    expires_at: datetime

    kind = "integrator"

    @property
    def id(self) -> str:
        return self.token_id

    @property
    def name(self) -> str:
        return f"integrator token for {self.request_id}"


@frozen
class Anonymous:
    kind = "anonymous"
    id = None
    name = None


ANONYMOUS = Anonymous()
Principal = User | Agent | Integrator | Worker | Anonymous
P = TypeVar("P", Agent, Integrator, Worker)


def audit(
    conn: sa.Connection,
    now: datetime,
    actor: Principal | None,
    action: str,
    outcome: str = "ok",
    *,
    school_id: str | None = None,
    request_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One audit entry, in the caller's transaction. ``detail`` holds no secret."""
    conn.execute(
        schema.audit.insert().values(
            at=now,
            actor_kind=actor.kind if actor is not None else "system",
            actor_id=actor.id if actor is not None else None,
            actor_name=actor.name if actor is not None else None,
            action=action,
            outcome=outcome,
            school_id=school_id,
            request_id=request_id,
            detail=dict(detail) if detail else None,
        )
    )
    log.info(
        "hub.audit",
        action=action,
        outcome=outcome,
        actor=actor.kind if actor is not None else "system",
        actor_id=actor.id if actor is not None else None,
        school=school_id,
        request=request_id,
    )


def audit_now(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    action: str,
    outcome: str,
    **kwargs: Any,
) -> None:
    """An audit entry in a transaction of its own (a refusal, whose work is rolled back)."""
    with writer(engine) as conn:
        audit(conn, now, actor, action, outcome, **kwargs)


def require_user(
    engine: sa.Engine,
    now: datetime,
    principal: Principal,
    permission: str,
    action: str,
    *,
    school_id: str | None = None,
    request_id: str | None = None,
) -> User:
    """The caller as a :class:`User` with ``permission`` (over ``school_id``, if given)."""
    if isinstance(principal, Anonymous):
        raise Unauthorized(f"{action} needs an API token (Authorization: Bearer mbu_...)")
    if not isinstance(principal, User):
        audit_now(engine, now, principal, action, "denied", school_id=school_id)
        raise Forbidden(f"{action} needs an integrator user's API token or web session")
    if school_id is not None and not principal.sees(school_id):
        raise NotFound(f"no school {school_id} (or it is not one of yours)")
    if not principal.has(permission):
        audit_now(
            engine,
            now,
            principal,
            action,
            "denied",
            school_id=school_id,
            request_id=request_id,
            detail={"missing": permission},
        )
        raise Forbidden(
            f"{action} needs the {permission!r} permission, which user {principal.name} "
            "does not have; ask a hub administrator"
        )
    return principal


def require_kind(
    engine: sa.Engine, now: datetime, principal: Principal, kind: type[P], action: str
) -> P:
    """The caller as an :class:`Agent` or :class:`Integrator` (401 anonymous, 403 other)."""
    if isinstance(principal, kind):
        return principal
    if isinstance(principal, Anonymous):
        raise Unauthorized(f"{action} needs the {kind.kind} token")
    audit_now(engine, now, principal, action, "denied")
    raise Forbidden(f"{action} is for the {kind.kind} only, not a {principal.kind}")


def require_school(principal: Principal, school_id: str) -> None:
    """Agents and Integrator Tokens reach only their own school."""
    if isinstance(principal, User):
        if not principal.sees(school_id):
            raise NotFound(f"no school {school_id} (or it is not one of yours)")
    elif isinstance(principal, (Agent, Integrator)):
        if principal.school_id != school_id:
            raise NotFound(f"no school {school_id} (or it is not yours)")
    elif isinstance(principal, Worker):
        return  # a worker reaches worker-run schools only (checked where it claims)
    else:
        raise NotFound(f"no school {school_id}")
