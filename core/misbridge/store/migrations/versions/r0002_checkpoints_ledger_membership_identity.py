"""Checkpoints, the guard's ledger, and memberships identified by person, group and role.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

- ``checkpoint``: where each dataset's last applied read ended, per school and MIS;
- ``guard_ledger``: what each applied plan disabled and re-enabled, per kind;
- a membership's identity no longer includes its start date, so that a source without
  membership dates neither ends nor restarts it: every ``ident`` and ``digest`` is
  recomputed (the digest now covers the start and end dates). Where one membership had
  several rows (several periods), the one in force is kept (enabled first, then the
  latest start) and the others, its history, are disabled with a ``superseded``
  identity; an audit entry counts them.

Written out in full (not imported from the running code) so that this revision always
does the same thing to a store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from hashlib import blake2b
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
SHORT = sa.Text()
SEP = "\x1f"
_BATCH = 1000


def _digest(values: tuple[Any, ...]) -> str:
    text = SEP.join(["\x00" if v is None else str(v) for v in values])
    return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _when(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    op.create_table(
        "checkpoint",
        sa.Column("school", SHORT, primary_key=True),
        sa.Column("mis", SHORT, primary_key=True),
        sa.Column("dataset", sa.String(32), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("mark", JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "guard_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("applied_at", sa.DateTime, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("plan_hash", SHORT, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("disabled", sa.Integer, nullable=False),
        sa.Column("reenabled", sa.Integer, nullable=False),
        sa.Column("active_before", sa.Integer, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
    )
    _reidentify_memberships()


def _reidentify_memberships() -> None:
    conn = op.get_bind()
    table = sa.table(
        "membership",
        sa.column("id", sa.String),
        sa.column("enabled", sa.Boolean),
        sa.column("ident", sa.Text),
        sa.column("digest", sa.String),
        sa.column("group_kind", sa.String),
        sa.column("group_id", sa.String),
        sa.column("person_id", sa.String),
        sa.column("role", sa.String),
        sa.column("start_date", sa.Date),
        sa.column("end_date", sa.Date),
        sa.column("changed_at", sa.DateTime),
        sa.column("disabled_at", sa.DateTime),
        sa.column("purged_at", sa.DateTime),
    )
    rows = conn.execute(
        sa.select(
            table.c.id,
            table.c.enabled,
            table.c.group_kind,
            table.c.group_id,
            table.c.person_id,
            table.c.role,
            table.c.start_date,
            table.c.end_date,
            table.c.purged_at,
        )
    ).all()
    groups: dict[str, list[Any]] = {}
    for row in rows:
        ident = SEP.join((row.group_kind, row.group_id, row.person_id, row.role))
        groups.setdefault(ident, []).append(row)
    now = datetime.now(UTC).replace(tzinfo=None)
    updates: list[dict[str, Any]] = []
    superseded = 0
    for ident, members in groups.items():
        # The period in force first: live rows before purged, enabled before disabled,
        # then the latest start.
        members.sort(
            key=lambda r: (
                r.purged_at is None,
                bool(r.enabled),
                _when(r.start_date) or date.min,
                r.id,
            ),
            reverse=True,
        )
        for position, row in enumerate(members):
            values = (_when(row.start_date), _when(row.end_date))
            update = {
                "p_id": row.id,
                "p_ident": ident if position == 0 else f"{ident}{SEP}superseded{SEP}{row.id}",
                "p_digest": _digest(values),
                "p_enabled": bool(row.enabled) if position == 0 else False,
                "p_changed": now if position and row.enabled else None,
            }
            if position and row.enabled:
                superseded += 1
            updates.append(update)
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("p_id"))
        .values(
            ident=sa.bindparam("p_ident"),
            digest=sa.bindparam("p_digest"),
            enabled=sa.bindparam("p_enabled"),
        )
    )
    for start in range(0, len(updates), _BATCH):
        chunk = updates[start : start + _BATCH]
        conn.execute(statement, [{k: v for k, v in u.items() if k != "p_changed"} for u in chunk])
    ended = [u for u in updates if u["p_changed"] is not None]
    if ended:
        conn.execute(
            table.update()
            .where(table.c.id == sa.bindparam("p_id"))
            .values(changed_at=sa.bindparam("p_changed"), disabled_at=sa.bindparam("p_changed")),
            [{"p_id": u["p_id"], "p_changed": u["p_changed"]} for u in ended],
        )
    if rows:
        audit = sa.table(
            "audit",
            sa.column("at", sa.DateTime),
            sa.column("action", sa.String),
            sa.column("detail", JSON),
        )
        conn.execute(
            audit.insert().values(
                at=now,
                action="migrate",
                detail={
                    "revision": revision,
                    "memberships": len(rows),
                    "superseded_periods_disabled": superseded,
                },
            )
        )


def downgrade() -> None:  # pragma: no cover - stores are never downgraded
    raise NotImplementedError("misbridge stores are never downgraded")
