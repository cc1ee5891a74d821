"""Workers and schedules: cloud-MIS schools extracted by the integrator's Celery workers,
their sealed credentials, and nightly schedules.

Revision ID: h0002
Revises: h0001
Create Date: 2027-01-10

Every existing school keeps its agent (``runner = 'agent'``); no request changes.
Written out in full so that this revision always does the same thing to a hub.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "h0002"
down_revision = "h0001"
branch_labels = None
depends_on = None

JSONValue = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
ID = sa.String(40)
DIGEST = sa.String(64)


def upgrade() -> None:
    with op.batch_alter_table("school") as batch:
        batch.add_column(sa.Column("runner", sa.String(16), nullable=False, server_default="agent"))
        batch.add_column(sa.Column("settings", JSONValue, nullable=True))
    with op.batch_alter_table("school") as batch:
        batch.alter_column("runner", server_default=None, existing_type=sa.String(16))
    with op.batch_alter_table("extract_request") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.DateTime, nullable=True))
    with op.batch_alter_table("extract_request") as batch:
        batch.alter_column("attempts", server_default=None, existing_type=sa.Integer)
    op.create_table(
        "school_credentials",
        sa.Column("school_id", ID, sa.ForeignKey("school.id"), primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "worker",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("digest", DIGEST, nullable=False, unique=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "schedule",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("user_id", ID, sa.ForeignKey("hub_user.id"), nullable=False),
        sa.Column("school_ids", JSONValue, nullable=False),
        sa.Column("window_start", sa.String(5), nullable=False),
        sa.Column("window_end", sa.String(5), nullable=False),
        sa.Column("datasets", JSONValue, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("disabled_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "schedule_run",
        sa.Column("schedule_id", ID, sa.ForeignKey("schedule.id"), primary_key=True),
        sa.Column("school_id", ID, primary_key=True),
        sa.Column("night", sa.Date, primary_key=True),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("window_end_at", sa.DateTime, nullable=False),
        sa.Column("request_id", ID, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:  # pragma: no cover - hubs are never downgraded
    raise NotImplementedError("misbridge hubs are never downgraded")
