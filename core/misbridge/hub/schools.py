"""Schools, their one-time activation codes, and the agent each school runs on site.

An activation code is shown once, kept as a digest, valid once and until it expires.
Activating registers the agent's public key (its private key never leaves the school)
and answers with the agent's own hub token *sealed to that key*: only the machine that
holds the private key can use it, which proves the key is really the agent's. A new
activation for a school revokes the agent it had: a school has one Host.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.accounts import parse_public_key
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, Forbidden, NotFound
from misbridge.hub.principals import ANONYMOUS, Agent, Principal, User, audit, require_school
from misbridge.hub.protocol import agent_token_info
from misbridge.hub.tokens import digest, new_activation_code, new_id, new_token, normalise_code
from misbridge.model import Dataset
from misbridge.vault.sealing import hpke_seal

__all__ = [
    "DEFAULT_DATASETS",
    "activate_agent",
    "agent_seen",
    "create_activation_code",
    "create_school",
    "get_school",
    "list_schools",
]

DEFAULT_DATASETS = ("years", "staff", "students", "groups")
#: The MIS whose API the integrator reaches itself (with credentials the school granted
#: it): their schools may be run by the integrator's workers instead of an agent.
CLOUD_MIS = frozenset({"wonde", "arbor", "bromcom"})
RUNNERS = ("agent", "worker")
_MIS = re.compile(r"[a-z0-9_]{1,64}")
_SEEN_EVERY = timedelta(seconds=10)


def check_datasets(datasets: Iterable[str]) -> list[str]:
    known = {d.value for d in Dataset}
    chosen = list(dict.fromkeys(datasets))
    unknown = [d for d in chosen if d not in known]
    if unknown or not chosen:
        raise BadRequest(
            f"datasets must be some of {', '.join(sorted(known))} (got {', '.join(unknown)})"
        )
    return chosen


def create_school(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    name: str,
    mis: str,
    *,
    urn: str | None = None,
    datasets: Iterable[str] = DEFAULT_DATASETS,
    runner: str = "agent",
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A school; ``runner`` "worker" has the integrator's workers extract it (a cloud
    MIS only), with the MIS plugin's ``settings`` (never a secret: credentials are set
    sealed, :func:`misbridge.hub.workers.set_credentials`)."""
    if runner not in RUNNERS:
        raise BadRequest(f"runner must be one of {', '.join(RUNNERS)}")
    if runner == "worker" and mis not in CLOUD_MIS:
        raise BadRequest(
            f"{mis} runs at the school (an agent reads it there); workers serve the cloud "
            f"MIS only ({', '.join(sorted(CLOUD_MIS))})"
        )
    if settings is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise BadRequest("settings must map setting names to text values")
    if not name.strip() or len(name) > 200:
        raise BadRequest("a school needs a name (up to 200 characters)")
    if not _MIS.fullmatch(mis):
        raise BadRequest("mis must be an MIS plugin name such as 'sims'")
    if urn is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,32}", urn):
        raise BadRequest("urn must be letters, digits and '-' (up to 32)")
    school_id = new_id("sch")
    chosen = check_datasets(datasets)
    with writer(engine) as conn:
        conn.execute(
            schema.school.insert().values(
                id=school_id,
                name=name.strip(),
                urn=urn,
                mis=mis,
                datasets=chosen,
                created_at=now,
                runner=runner,
                settings=dict(settings) if settings is not None else None,
            )
        )
        audit(conn, now, actor, "school.create", school_id=school_id, detail={"mis": mis})
    return {
        "id": school_id,
        "name": name.strip(),
        "urn": urn,
        "mis": mis,
        "datasets": chosen,
        "runner": runner,
    }


def _agent_state(row: Any, now: datetime, hold: float, connected: set[str]) -> dict[str, Any]:
    if row is None:
        return {"state": "not activated", "last_seen_at": None, "version": None, "kid": None}
    recent = row.last_seen_at is not None and now - row.last_seen_at <= timedelta(seconds=hold + 30)
    online = row.id in connected or recent
    return {
        "id": row.id,
        "state": "online" if online else "offline",
        "last_seen_at": row.last_seen_at,
        "version": row.version,
        "kid": row.kid,
        "hostname": row.hostname,
    }


def list_schools(
    engine: sa.Engine, now: datetime, user: User, hold: float, connected: set[str]
) -> list[dict[str, Any]]:
    s, a = schema.school, schema.agent
    query = (
        sa.select(s, a.c.id.label("agent_id"))
        .outerjoin(a, sa.and_(a.c.school_id == s.c.id, a.c.revoked_at.is_(None)))
        .order_by(s.c.name, s.c.id)
    )
    if user.schools is not None:
        query = query.where(s.c.id.in_(sorted(user.schools)))
    with reader(engine) as conn:
        rows = conn.execute(query).all()
        agents = {
            r.id: r
            for r in conn.execute(
                sa.select(a).where(a.c.revoked_at.is_(None), a.c.id.in_([r.agent_id for r in rows]))
            )
        }
    return [
        _school_dict(r, _agent_state(agents.get(r.agent_id), now, hold, connected)) for r in rows
    ]


def _school_dict(row: Any, agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "urn": row.urn,
        "mis": row.mis,
        "datasets": list(row.datasets),
        "runner": row.runner,
        "agent": agent,
    }


def get_school(
    engine: sa.Engine,
    now: datetime,
    principal: Principal,
    school_id: str,
    hold: float,
    connected: set[str],
) -> dict[str, Any]:
    require_school(principal, school_id)
    with reader(engine) as conn:
        row = conn.execute(sa.select(schema.school).where(schema.school.c.id == school_id)).first()
        if row is None:
            raise NotFound(f"no school {school_id}")
        agent = conn.execute(
            sa.select(schema.agent).where(
                schema.agent.c.school_id == school_id, schema.agent.c.revoked_at.is_(None)
            )
        ).first()
    return _school_dict(row, _agent_state(agent, now, hold, connected))


def create_activation_code(
    engine: sa.Engine, now: datetime, actor: Principal | None, school_id: str, lifetime: timedelta
) -> tuple[str, datetime]:
    """A one-time code for the school's agent (shown once) and when it expires."""
    code = new_activation_code()
    expires = now + lifetime
    with writer(engine) as conn:
        found = conn.execute(
            sa.select(schema.school.c.id).where(schema.school.c.id == school_id)
        ).first()
        if found is None:
            raise NotFound(f"no school {school_id}")
        conn.execute(
            schema.activation_code.insert().values(
                id=new_id("act"),
                school_id=school_id,
                digest=digest(code),
                created_by=actor.id if actor is not None else None,
                created_at=now,
                expires_at=expires,
            )
        )
        audit(conn, now, actor, "activation_code.create", school_id=school_id)
    return code, expires


def activate_agent(
    engine: sa.Engine,
    now: datetime,
    code: str,
    public_key: str,
    *,
    version: str | None,
    hostname: str | None,
) -> dict[str, Any]:
    """Register an agent with a one-time code; its token comes back sealed to its key."""
    key, kid = parse_public_key(public_key)
    code_digest = digest(normalise_code(code))
    agent_id = new_id("agt")
    token = new_token("agent")
    c = schema.activation_code
    with writer(engine) as conn:
        row = conn.execute(sa.select(c).where(c.c.digest == code_digest)).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            why = "unknown" if row is None else ("used" if row.used_at else "expired")
            audit(
                conn,
                now,
                ANONYMOUS,
                "agent.activate",
                "denied",
                school_id=row.school_id if row is not None else None,
                detail={"reason": why},
            )
            refused = True
        else:
            refused = False
            a = schema.agent
            revoked = conn.execute(
                a.update()
                .where(a.c.school_id == row.school_id, a.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
            conn.execute(
                schema.agent.insert().values(
                    id=agent_id,
                    school_id=row.school_id,
                    digest=digest(token),
                    public_key=public_key,
                    kid=kid,
                    version=(version or "")[:64] or None,
                    hostname=(hostname or "")[:255] or None,
                    activated_at=now,
                    last_seen_at=now,
                )
            )
            conn.execute(c.update().where(c.c.id == row.id).values(used_at=now, agent_id=agent_id))
            agent = Agent(id=agent_id, school_id=row.school_id, name=hostname or agent_id)
            audit(
                conn,
                now,
                agent,
                "agent.activate",
                school_id=row.school_id,
                detail={"kid": kid, "replaced_agents": revoked},
            )
            school = conn.execute(
                sa.select(schema.school).where(schema.school.c.id == row.school_id)
            ).one()
    if refused:
        raise Forbidden(
            "this activation code is unknown, already used or expired: ask the integrator "
            "for a new one"
        )
    sealed = hpke_seal(token.encode("ascii"), key, agent_token_info(agent_id, school.id, kid))
    return {
        "agent_id": agent_id,
        "school": {"id": school.id, "name": school.name, "mis": school.mis},
        "sealed_token": base64.b64encode(sealed).decode("ascii"),
        "kid": kid,
    }


def agent_seen(
    engine: sa.Engine, now: datetime, agent: Agent, version: str | None, kid: str | None
) -> None:
    """Note that the agent called (at most every few seconds: polls are frequent)."""
    a = schema.agent
    with reader(engine) as conn:
        row = conn.execute(
            sa.select(a.c.last_seen_at, a.c.version, a.c.kid).where(a.c.id == agent.id)
        ).first()
    if row is None:
        return
    stale = row.last_seen_at is None or now - row.last_seen_at >= _SEEN_EVERY
    changed = (version and version != row.version) or (kid and kid != row.kid)
    if stale or changed:
        values: dict[str, Any] = {"last_seen_at": now}
        if version:
            values["version"] = version[:64]
        with writer(engine) as conn:
            conn.execute(a.update().where(a.c.id == agent.id).values(**values))
