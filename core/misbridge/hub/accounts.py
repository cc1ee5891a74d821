"""Integrator users, their API tokens and web sessions, and turning a token into a caller.

Tokens are shown once, when made, and kept as digests; a lookup is by digest, so the
hub never compares a secret byte by byte. Agent tokens and Integrator Tokens are
resolved here too, so every endpoint authenticates through :func:`authenticate`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, Conflict, NotFound, Unauthorized
from misbridge.hub.principals import (
    ANONYMOUS,
    PERMISSIONS,
    Agent,
    Integrator,
    Principal,
    User,
    audit,
)
from misbridge.hub.tokens import digest, hash_password, kind_of, new_id, new_token, verify_password
from misbridge.vault.keys import key_id

__all__ = [
    "authenticate",
    "create_token",
    "create_user",
    "login",
    "parse_public_key",
    "revoke_token",
    "set_public_key",
    "set_webhook",
    "user_view",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
_LAST_USED_EVERY = timedelta(minutes=5)


def parse_public_key(text: str) -> tuple[X25519PublicKey, str]:
    """An X25519 public key from base64 (32 raw bytes), and its key id."""
    try:
        raw = base64.b64decode(text, validate=True)
        key = X25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise BadRequest(
            "public_key must be an X25519 public key: 32 bytes, base64-encoded"
        ) from None
    return key, key_id(key)


def create_user(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    name: str,
    permissions: Iterable[str],
    *,
    schools: Iterable[str] | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    if not _NAME.fullmatch(name):
        raise BadRequest(
            f"{name[:40]!r} is not a user name: letters, digits and . _ @ - (up to 128)"
        )
    perms = sorted(set(permissions))
    unknown = [p for p in perms if p not in PERMISSIONS]
    if unknown or not perms:
        raise BadRequest(f"permissions must be some of {', '.join(PERMISSIONS)}")
    chosen = None if schools is None else sorted(set(schools))
    user_id = new_id("usr")
    with writer(engine) as conn:
        if conn.execute(sa.select(schema.users.c.id).where(schema.users.c.name == name)).first():
            raise Conflict(f"there is already a user {name}")
        for school_id in chosen or ():
            found = conn.execute(
                sa.select(schema.school.c.id).where(schema.school.c.id == school_id)
            ).first()
            if found is None:
                raise NotFound(f"no school {school_id}")
        conn.execute(
            schema.users.insert().values(
                id=user_id,
                name=name,
                password_hash=hash_password(password) if password else None,
                permissions=perms,
                all_schools=chosen is None,
                created_at=now,
            )
        )
        for school_id in chosen or ():
            conn.execute(schema.user_school.insert().values(user_id=user_id, school_id=school_id))
        audit(conn, now, actor, "user.create", detail={"user": name, "permissions": perms})
    return {"id": user_id, "name": name, "permissions": perms, "schools": chosen}


def create_token(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    user_id: str,
    *,
    kind: str = "api",
    label: str | None = None,
    lifetime: timedelta | None = None,
) -> tuple[str, str]:
    """A new token for ``user_id``: (token id, the token itself, shown once)."""
    token = new_token("user" if kind == "api" else "session")
    token_id = new_id("tok")
    with writer(engine) as conn:
        found = conn.execute(
            sa.select(schema.users.c.id).where(schema.users.c.id == user_id)
        ).first()
        if found is None:
            raise NotFound(f"no user {user_id}")
        conn.execute(
            schema.api_token.insert().values(
                id=token_id,
                user_id=user_id,
                digest=digest(token),
                kind=kind,
                label=label,
                created_at=now,
                expires_at=now + lifetime if lifetime else None,
            )
        )
        if kind == "api":
            audit(conn, now, actor, "token.create", detail={"user": user_id, "token": token_id})
    return token_id, token


def revoke_token(engine: sa.Engine, now: datetime, actor: Principal | None, token_id: str) -> None:
    with writer(engine) as conn:
        done = conn.execute(
            schema.api_token.update()
            .where(schema.api_token.c.id == token_id, schema.api_token.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if done.rowcount == 0:
            raise NotFound(f"no live token {token_id}")
        audit(conn, now, actor, "token.revoke", detail={"token": token_id})


def login(
    engine: sa.Engine, now: datetime, name: str, password: str, lifetime: timedelta
) -> tuple[str, str] | None:
    """A web session for the right user name and password; None (audited) otherwise."""
    with reader(engine) as conn:
        row = conn.execute(
            sa.select(schema.users).where(
                schema.users.c.name == name, schema.users.c.disabled_at.is_(None)
            )
        ).first()
    ok = verify_password(password, row.password_hash if row is not None else None)
    if row is None or not ok:
        with writer(engine) as conn:
            audit(conn, now, ANONYMOUS, "session.login", "denied", detail={"user": name[:128]})
        return None
    session = create_token(engine, now, None, row.id, kind="session", lifetime=lifetime)
    with writer(engine) as conn:
        audit(conn, now, _user(row, session[0], "session", []), "session.login")
    return session


def _user(row: Any, token_id: str, via: str, schools: list[str]) -> User:
    return User(
        id=row.id,
        name=row.name,
        permissions=frozenset(row.permissions),
        schools=None if row.all_schools else frozenset(schools),
        token_id=token_id,
        via=via,
    )


def authenticate(engine: sa.Engine, now: datetime, token: str | None, *, via: str) -> Principal:
    """The caller a bearer secret belongs to; ``via`` is "api" (header) or "session"."""
    if not token:
        return ANONYMOUS
    kind = kind_of(token)
    wanted = {"api": {"user", "agent", "integrator", "worker"}, "session": {"session"}}[via]
    if kind not in wanted:
        raise Unauthorized("that is not a token this hub accepts here")
    with reader(engine) as conn:
        if kind in ("user", "session"):
            return _user_for(conn, engine, now, digest(token), via)
        if kind == "worker":
            from misbridge.hub.workers import worker_for

            return worker_for(conn, digest(token))
        if kind == "agent":
            row = conn.execute(
                sa.select(schema.agent).where(
                    schema.agent.c.digest == digest(token), schema.agent.c.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                raise Unauthorized("unknown or revoked agent token: activate the agent again")
            return Agent(id=row.id, school_id=row.school_id, name=row.hostname or row.id)
        row = conn.execute(
            sa.select(schema.integrator_token).where(
                schema.integrator_token.c.digest == digest(token)
            )
        ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked Integrator Token")
    if row.expires_at <= now:
        raise Unauthorized("this Integrator Token has expired: ask the hub for a new one")
    return Integrator(
        token_id=row.id,
        request_id=row.request_id,
        school_id=row.school_id,
        agent_id=row.agent_id,
        datasets=tuple(row.datasets),
        expires_at=row.expires_at,
    )


def _user_for(
    conn: sa.Connection, engine: sa.Engine, now: datetime, token_digest: str, via: str
) -> User:
    t, u = schema.api_token, schema.users
    row = conn.execute(
        sa.select(u, t.c.id.label("token_id"), t.c.expires_at, t.c.last_used_at)
        .join(t, t.c.user_id == u.c.id)
        .where(t.c.digest == token_digest, t.c.revoked_at.is_(None), u.c.disabled_at.is_(None))
    ).first()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized("unknown, expired or revoked token: log in again or make a new token")
    schools = [
        s
        for (s,) in conn.execute(
            sa.select(schema.user_school.c.school_id).where(schema.user_school.c.user_id == row.id)
        )
    ]
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
        with writer(engine) as w:
            w.execute(t.update().where(t.c.id == row.token_id).values(last_used_at=now))
    return _user(row, row.token_id, via, schools)


def set_public_key(engine: sa.Engine, now: datetime, user: User, public_key: str) -> str:
    """Register the key extracts for this user are sealed to; returns its key id."""
    _, kid = parse_public_key(public_key)
    with writer(engine) as conn:
        conn.execute(
            schema.users.update()
            .where(schema.users.c.id == user.id)
            .values(public_key=public_key, public_kid=kid)
        )
        audit(conn, now, user, "user.public_key", detail={"kid": kid})
    return kid


def set_webhook(engine: sa.Engine, now: datetime, user: User, url: str | None) -> None:
    from misbridge.hub.webhooks import check_webhook_url

    if url is not None:
        check_webhook_url(url)
    with writer(engine) as conn:
        conn.execute(
            schema.users.update().where(schema.users.c.id == user.id).values(webhook_url=url)
        )
        audit(conn, now, user, "user.webhook", detail={"set": url is not None})


def user_view(engine: sa.Engine, user: User) -> dict[str, Any]:
    with reader(engine) as conn:
        row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user.id)).one()
    return {
        "id": row.id,
        "name": row.name,
        "permissions": sorted(row.permissions),
        "schools": None if user.schools is None else sorted(user.schools),
        "public_kid": row.public_kid,
        "webhook_url": row.webhook_url,
    }
