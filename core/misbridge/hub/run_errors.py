"""A run's record errors at the hub: ids, codes, fields and datasets, never a personal
value (the agent sends no messages; the pages show each code's meaning and what to do
from :mod:`misbridge.errorcodes`), and the datasets' counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, Forbidden
from misbridge.hub.extracts import load_request, working
from misbridge.hub.principals import VIEW, Agent, Integrator, Principal, require_user

__all__ = ["record_errors", "run_errors"]

R = schema.extract_request
_SEVERITIES = {"error", "warning"}
_STAGES = {"on-site", "processing"}


def record_errors(
    engine: sa.Engine,
    now: datetime,
    integ: Integrator,
    request_id: str,
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any] | None,
    max_errors: int,
) -> int:
    """Replace the run's record errors (ids, codes, fields: no personal values)."""
    if len(rows) > max_errors:
        raise BadRequest(f"more than {max_errors} record errors in one run; send the first ones")
    clean = []
    for index, r in enumerate(rows):
        dataset = str(r.get("dataset", ""))
        if dataset not in integ.datasets:
            raise Forbidden(
                f"error {index} is for dataset {dataset[:32]!r}, outside this request's datasets"
            )
        if r.get("severity") not in _SEVERITIES or r.get("stage") not in _STAGES:
            raise BadRequest(f"error {index}: severity or stage is not one misbridge uses")
        clean.append(
            {
                "request_id": request_id,
                "dataset": dataset,
                "mis_id": _text(r.get("mis_id"), 200),
                "record_label": _text(r.get("record_label"), 300),
                "field": _text(r.get("field"), 128),
                "code": str(r.get("code", ""))[:64] or "unknown",
                "severity": r["severity"],
                "stage": r["stage"],
            }
        )
    with writer(engine) as conn:
        working(conn, integ, request_id)
        conn.execute(schema.run_error.delete().where(schema.run_error.c.request_id == request_id))
        if clean:
            conn.execute(schema.run_error.insert(), clean)
        conn.execute(
            R.update()
            .where(R.c.id == request_id)
            .values(
                error_count=len(clean),
                summary=_summary(summary, integ.datasets),
                updated_at=now,
            )
        )
    return len(clean)


def _text(value: object, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def _summary(summary: Mapping[str, Any] | None, datasets: Sequence[str]) -> dict[str, Any] | None:
    """Only counts and statuses of the request's datasets are kept."""
    if not summary:
        return None
    out: dict[str, Any] = {}
    for name, o in dict(summary.get("datasets") or {}).items():
        if name in datasets and isinstance(o, Mapping):
            out[name] = {
                "status": str(o.get("status", ""))[:16],
                "records": int(o.get("records") or 0),
                "rejected": int(o.get("rejected") or 0),
                "message": _text(o.get("message"), 300),
            }
    return {"datasets": out, "ok": bool(summary.get("ok", False))}


def run_errors(
    engine: sa.Engine, now: datetime, principal: Principal, request_id: str
) -> list[dict[str, Any]]:
    if not isinstance(principal, Agent | Integrator):
        require_user(engine, now, principal, VIEW, "extract.errors")
    e = schema.run_error
    with reader(engine) as conn:
        load_request(conn, principal, request_id)
        rows = conn.execute(sa.select(e).where(e.c.request_id == request_id).order_by(e.c.id))
        return [
            {
                "dataset": r.dataset,
                "mis_id": r.mis_id,
                "record_label": r.record_label,
                "field": r.field,
                "code": r.code,
                "severity": r.severity,
                "stage": r.stage,
            }
            for r in rows
        ]
