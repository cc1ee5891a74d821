"""Retention: erase the personal data of records disabled for longer than a period.

The rows stay (nothing in the roster is ever deleted) as tombstones holding only the
internal id and lifecycle dates; their MIS ids go, so a person who comes back is a new
record. Plan bodies that could still hold the erased data are cleared, run errors of
runs older than the period are deleted, and an audit entry records what was done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from misbridge.errors import ConfigurationError
from misbridge.store import schema
from misbridge.store.kinds import KINDS_BY_NAME

__all__ = ["purge"]

_CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _expired(
    conn: sa.Connection, table: sa.Table, cutoff: datetime, schools: Sequence[str] | None
) -> list[str]:
    query = sa.select(table.c.id).where(
        table.c.enabled.is_(False),
        table.c.purged_at.is_(None),
        table.c.disabled_at <= cutoff,
    )
    if schools is not None:
        query = query.where(table.c.school.in_(schools))
    return [row[0] for row in conn.execute(query)]


def _erase(conn: sa.Connection, kind_name: str, ids: Sequence[str], now: datetime) -> None:
    kind = KINDS_BY_NAME[kind_name]
    table = kind.table
    values: dict[str, Any] = dict.fromkeys(kind.personal)
    values.update(purged_at=now, changed_at=now, enabled=False, digest=None)
    for chunk in _chunks(ids):
        conn.execute(table.update().where(table.c.id.in_(chunk)).values(values))


def _owned(conn: sa.Connection, table: sa.Table, column: str, owners: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(owners):
        query = sa.select(table.c.id).where(table.c[column].in_(chunk), table.c.purged_at.is_(None))
        found.update(row[0] for row in conn.execute(query))
    return found


def purge(
    conn: sa.Connection,
    older_than_days: int,
    now: datetime,
    *,
    schools: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Erase, in the caller's transaction, the expired records of ``schools`` (None:
    every school); return the audit detail, with ``by_school``: how many records of each
    school were erased."""
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise ConfigurationError("older_than_days must be a whole number of days")
    if older_than_days < 0:
        raise ConfigurationError(f"older_than_days must be 0 or more, not {older_than_days}")
    cutoff = now - timedelta(days=older_than_days)
    people = {
        k: _expired(conn, KINDS_BY_NAME[k].table, cutoff, schools) for k in ("student", "staff")
    }
    persons = [*people["student"], *people["staff"]]
    photos = set(_expired(conn, schema.photo, cutoff, schools)) | _owned(
        conn, schema.photo, "person_id", persons
    )
    results = set(_expired(conn, schema.exam_result, cutoff, schools)) | _owned(
        conn, schema.exam_result, "student_id", people["student"]
    )
    grades = set(_expired(conn, schema.assessment, cutoff, schools)) | _owned(
        conn, schema.assessment, "student_id", people["student"]
    )
    erased = {
        **people,
        "photo": sorted(photos),
        "exam_result": sorted(results),
        "assessment": sorted(grades),
    }
    by_school: dict[str, int] = {}
    for kind_name, ids in erased.items():
        table = KINDS_BY_NAME[kind_name].table
        for chunk in _chunks(ids):
            query = sa.select(table.c.school, sa.func.count()).where(table.c.id.in_(chunk))
            for name, n in conn.execute(query.group_by(table.c.school)):
                by_school[name] = by_school.get(name, 0) + int(n)
        _erase(conn, kind_name, ids, now)
    for chunk in _chunks(persons):
        conn.execute(
            schema.account.update()
            .where(schema.account.c.person_id.in_(chunk))
            .values(username=None, contact_preference=None)
        )
        conn.execute(schema.mis_id.delete().where(schema.mis_id.c.internal_id.in_(chunk)))
    plans = _clear_plans(conn, cutoff, set(persons), schools)
    old_runs = sa.select(schema.run.c.id).where(schema.run.c.finished_at <= cutoff)
    if schools is not None:
        old_runs = old_runs.where(schema.run.c.school.in_(schools))
    errors = conn.execute(schema.run_error.delete().where(schema.run_error.c.run_id.in_(old_runs)))
    return {
        "older_than_days": older_than_days,
        "cutoff": cutoff.isoformat(),
        "purged": {k: len(v) for k, v in erased.items()},
        "by_school": dict(sorted(by_school.items())),
        "ids": {k: v for k, v in erased.items() if v},
        "plan_bodies_cleared": plans,
        "run_errors_deleted": errors.rowcount,
    }


def _clear_plans(
    conn: sa.Connection, cutoff: datetime, persons: set[str], schools: Sequence[str] | None
) -> int:
    """Clear plan bodies older than the period, or naming a person just purged."""
    table = schema.plan
    mine = table.c.school.in_(schools) if schools is not None else sa.true()
    doomed = [
        h
        for (h,) in conn.execute(
            sa.select(table.c.hash).where(
                table.c.body.is_not(None), table.c.created_at <= cutoff, mine
            )
        )
    ]
    if persons:
        recent = sa.select(table.c.hash, table.c.body).where(
            table.c.body.is_not(None), table.c.created_at > cutoff, mine
        )
        doomed += [h for h, body in conn.execute(recent) if _mentions(body, persons)]
    for chunk in _chunks(doomed):
        conn.execute(table.update().where(table.c.hash.in_(chunk)).values(body=None))
    return len(doomed)


def _mentions(body: str, ids: set[str]) -> bool:
    datasets = json.loads(body).get("datasets", {})
    for content in datasets.values():
        for section in ("updates", "disables", "reenables", "links"):
            if any(item.get("id") in ids for item in content.get(section, [])):
                return True
    return False
