"""The first hub schema: users, tokens, schools, agents, requests, uploads, errors, audit.

Revision ID: h0001
Revises:
Create Date: 2026-04-20

Written out in full (not generated from ``schema.py`` at run time) so that a later
change to ``schema.py`` can never change what this revision did to existing hubs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "h0001"
down_revision = None
branch_labels = None
depends_on = None

JSONValue = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
ID = sa.String(40)
DIGEST = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "hub_user",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("permissions", JSONValue, nullable=False),
        sa.Column("all_schools", sa.Boolean, nullable=False),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("public_kid", sa.String(16), nullable=True),
        sa.Column("webhook_url", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("disabled_at", sa.DateTime, nullable=True),
    )

    op.create_table(
        "school",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("urn", sa.String(32), nullable=True),
        sa.Column("mis", sa.String(64), nullable=False),
        sa.Column("datasets", JSONValue, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )

    op.create_table(
        "user_school",
        sa.Column("user_id", ID, sa.ForeignKey("hub_user.id"), primary_key=True),
        sa.Column("school_id", ID, sa.ForeignKey("school.id"), primary_key=True),
    )

    op.create_table(
        "api_token",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, sa.ForeignKey("hub_user.id"), nullable=False, index=True),
        sa.Column("digest", DIGEST, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),  # "api" or "session"
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )

    op.create_table(
        "activation_code",
        sa.Column("id", ID, primary_key=True),
        sa.Column("school_id", ID, sa.ForeignKey("school.id"), nullable=False, index=True),
        sa.Column("digest", DIGEST, nullable=False, unique=True),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        sa.Column("agent_id", ID, nullable=True),
    )

    op.create_table(
        "agent",
        sa.Column("id", ID, primary_key=True),
        sa.Column("school_id", ID, sa.ForeignKey("school.id"), nullable=False, index=True),
        sa.Column("digest", DIGEST, nullable=False, unique=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("hostname", sa.String(255), nullable=True),
        sa.Column("activated_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )

    op.create_table(
        "extract_request",
        sa.Column("id", ID, primary_key=True),
        sa.Column("school_id", ID, sa.ForeignKey("school.id"), nullable=False, index=True),
        sa.Column("requested_by", ID, sa.ForeignKey("hub_user.id"), nullable=False),
        sa.Column("datasets", JSONValue, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("recipient_public_key", sa.String(64), nullable=False),
        sa.Column("recipient_kid", sa.String(16), nullable=False),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("summary", JSONValue, nullable=True),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )

    op.create_table(
        "integrator_token",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True
        ),
        sa.Column("school_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("datasets", JSONValue, nullable=False),
        sa.Column("digest", DIGEST, nullable=False, unique=True),
        sa.Column("issued_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )

    op.create_table(
        "upload",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, unique=True
        ),
        sa.Column("school_id", ID, nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("chunk_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("completed_at", sa.DateTime, nullable=True),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("retrieval_digest", DIGEST, nullable=True, unique=True),
        sa.Column("retrieval_expires_at", sa.DateTime, nullable=True),
        sa.Column("downloads", sa.Integer, nullable=False),
        sa.Column("acknowledged_at", sa.DateTime, nullable=True),
        sa.Column("deleted_at", sa.DateTime, nullable=True),
        sa.Column("deleted_why", sa.String(32), nullable=True),
    )

    op.create_table(
        "run_error",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True
        ),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("mis_id", sa.Text, nullable=True),
        sa.Column("record_label", sa.Text, nullable=True),
        sa.Column("field", sa.String(128), nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
    )

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True
        ),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("delivered_at", sa.DateTime, nullable=True),
        sa.Column("last_status", sa.String(64), nullable=True),
    )

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("actor_name", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("school_id", ID, nullable=True, index=True),
        sa.Column("request_id", ID, nullable=True),
        sa.Column("detail", JSONValue, nullable=True),
    )


def downgrade() -> None:
    # A hub database is never downgraded: misbridge refuses one newer than itself.
    raise NotImplementedError("misbridge hub databases are never downgraded")
