"""Housekeeping the hub does on its own, each step audited: expiries and timeouts.

- an upload nobody acknowledged is deleted when its retention ends (request ``expired``);
- an upload left unfinished for as long (its agent went away mid-upload) is deleted
  and its request failed;
- a request with no word from its agent for ``request_timeout_seconds`` is failed;
- a school's agent can ask the hub to delete everything it still holds for the school
  (:func:`purge_school`): uploads, record errors and the runs' summaries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.database import writer
from misbridge.hub.extracts import revoke_tokens
from misbridge.hub.principals import Agent, audit
from misbridge.hub.protocol import ACTIVE_STATES
from misbridge.hub.settings import HubSettings
from misbridge.hub.storage import UploadStorage
from misbridge.hub.uploads import drop_upload

__all__ = ["purge_school", "sweep"]

R, U = schema.extract_request, schema.upload


def _finish(conn: sa.Connection, now: datetime, request_id: str, state: str, detail: str) -> None:
    conn.execute(
        R.update()
        .where(R.c.id == request_id)
        .values(state=state, detail=detail, updated_at=now, finished_at=now)
    )
    revoke_tokens(conn, request_id, now)


def sweep(
    engine: sa.Engine, storage: UploadStorage, now: datetime, settings: HubSettings
) -> dict[str, int]:
    """One round of expiries and timeouts; returns how many of each it did."""
    done = {"expired": 0, "abandoned": 0, "timed_out": 0}
    retention = timedelta(seconds=settings.upload_retention_seconds)
    timeout = timedelta(seconds=settings.request_timeout_seconds)
    with writer(engine) as conn:
        expired = conn.execute(
            sa.select(U.c.request_id, U.c.school_id).where(
                U.c.completed_at.is_not(None),
                U.c.acknowledged_at.is_(None),
                U.c.deleted_at.is_(None),
                U.c.expires_at <= now,
            )
        ).all()
        for request_id, school_id in expired:
            drop_upload(conn, storage, now, request_id, "expired")
            _finish(conn, now, request_id, "expired", "nobody acknowledged it in time: deleted")
            audit(conn, now, None, "upload.expired", school_id=school_id, request_id=request_id)
            done["expired"] += 1
        abandoned = conn.execute(
            sa.select(U.c.request_id, U.c.school_id).where(
                U.c.completed_at.is_(None),
                U.c.deleted_at.is_(None),
                U.c.updated_at <= now - retention,
            )
        ).all()
        for request_id, school_id in abandoned:
            drop_upload(conn, storage, now, request_id, "abandoned")
            _finish(conn, now, request_id, "failed", "the upload was never finished: deleted")
            audit(conn, now, None, "upload.abandoned", school_id=school_id, request_id=request_id)
            done["abandoned"] += 1
        stale = conn.execute(
            sa.select(R.c.id, R.c.school_id, R.c.state).where(
                R.c.state.in_(ACTIVE_STATES), R.c.updated_at <= now - timeout
            )
        ).all()
        for request_id, school_id, state in stale:
            drop_upload(conn, storage, now, request_id, "timed out")
            why = (
                "no agent took the request in time (is the school's agent running?)"
                if state == "pending"
                else "the school's agent went silent during the extract"
            )
            _finish(conn, now, request_id, "failed", why)
            audit(
                conn,
                now,
                None,
                "extract.timeout",
                school_id=school_id,
                request_id=request_id,
                detail={"was": state},
            )
            done["timed_out"] += 1
    return done


def purge_school(
    engine: sa.Engine, storage: UploadStorage, now: datetime, agent: Agent
) -> dict[str, Any]:
    """Delete everything the hub still holds of the agent's school (the school asked).

    The requests' rows stay, stripped to who asked, when and the final state: the record
    of what happened, which the audit log refers to.
    """
    counts = {"uploads": 0, "errors": 0, "requests": 0}
    with writer(engine) as conn:
        rows = conn.execute(
            sa.select(R.c.id, R.c.state).where(R.c.school_id == agent.school_id)
        ).all()
        for request_id, state in rows:
            if drop_upload(conn, storage, now, request_id, "purged"):
                counts["uploads"] += 1
            counts["errors"] += conn.execute(
                schema.run_error.delete().where(schema.run_error.c.request_id == request_id)
            ).rowcount
            values: dict[str, Any] = {"summary": None, "error_count": 0, "updated_at": now}
            if state not in ("acknowledged", "failed", "expired", "purged"):
                values.update(state="purged", finished_at=now, detail="deleted: the school asked")
                revoke_tokens(conn, request_id, now)
            conn.execute(R.update().where(R.c.id == request_id).values(**values))
            counts["requests"] += 1
        audit(conn, now, agent, "school.purge", school_id=agent.school_id, detail=counts)
    return {"school_id": agent.school_id, "deleted": counts, "at": now}
