"""The hub's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Nothing here holds a readable secret: API tokens, session tokens, agent tokens,
Integrator Tokens, activation codes and retrieval keys are kept as SHA-256 digests
(they are random 256-bit values, so a fast digest is enough); passwords as scrypt
hashes. Uploads hold only ciphertext sealed to the integrator that asked, on the
storage backend, never in the database. ``run_error`` holds ids and codes, never a
personal value.

The migrations in ``misbridge/hub/migrations`` create exactly these tables; a test
compares the two so that they never drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "activation_code",
    "agent",
    "api_token",
    "audit",
    "extract_request",
    "integrator_token",
    "metadata",
    "notification",
    "run_error",
    "schedule",
    "schedule_run",
    "school",
    "school_credentials",
    "upload",
    "user_school",
    "users",
    "worker",
]

metadata = sa.MetaData()

JSONValue = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
ID = sa.String(40)
DIGEST = sa.String(64)

users = sa.Table(
    "hub_user",
    metadata,
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

school = sa.Table(
    "school",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("urn", sa.String(32), nullable=True),
    sa.Column("mis", sa.String(64), nullable=False),
    sa.Column("datasets", JSONValue, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # "agent": the school's own agent extracts; "worker": the integrator's Celery workers
    # do (a cloud MIS whose API credentials the integrator holds, sealed to the workers).
    sa.Column("runner", sa.String(16), nullable=False),
    # The MIS plugin's settings for a worker-run school (no secrets: those are sealed).
    sa.Column("settings", JSONValue, nullable=True),
)

# A worker-run school's MIS credentials, HPKE-sealed to the workers' public key (``kid``):
# the hub cannot open them; only a worker holding the private key can.
school_credentials = sa.Table(
    "school_credentials",
    metadata,
    sa.Column("school_id", ID, sa.ForeignKey("school.id"), primary_key=True),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("kid", sa.String(16), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# The integrator's Celery workers: each holds a token (``mbw_``, kept as a digest) and
# the workers' key pair, whose public half school credentials are sealed to.
worker = sa.Table(
    "worker",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("digest", DIGEST, nullable=False, unique=True),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("kid", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=True),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

# Nightly schedules: a window (local times, the hub's schedule_timezone) in which each of
# the schedule's schools is started once, spread evenly; a run not ready by the window's
# end is reported as missed.
schedule = sa.Table(
    "schedule",
    metadata,
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

# One school's slot in one night of a schedule: when it was due, the request made, and
# how the night ended for it ("started", "ready", "missed", "failed").
schedule_run = sa.Table(
    "schedule_run",
    metadata,
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

user_school = sa.Table(
    "user_school",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("hub_user.id"), primary_key=True),
    sa.Column("school_id", ID, sa.ForeignKey("school.id"), primary_key=True),
)

api_token = sa.Table(
    "api_token",
    metadata,
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

activation_code = sa.Table(
    "activation_code",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("school_id", ID, sa.ForeignKey("school.id"), nullable=False, index=True),
    sa.Column("digest", DIGEST, nullable=False, unique=True),
    sa.Column("created_by", ID, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime, nullable=True),
    sa.Column("agent_id", ID, nullable=True),
)

agent = sa.Table(
    "agent",
    metadata,
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

extract_request = sa.Table(
    "extract_request",
    metadata,
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
    # Worker-run requests: when the task was handed to the broker, how many workers took
    # it, and until when the one working on it holds it (renewed by its status calls).
    sa.Column("dispatched_at", sa.DateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("lease_until", sa.DateTime, nullable=True),
)

integrator_token = sa.Table(
    "integrator_token",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True),
    sa.Column("school_id", ID, nullable=False),
    sa.Column("agent_id", ID, nullable=False),
    sa.Column("datasets", JSONValue, nullable=False),
    sa.Column("digest", DIGEST, nullable=False, unique=True),
    sa.Column("issued_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

upload = sa.Table(
    "upload",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, unique=True),
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

run_error = sa.Table(
    "run_error",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True),
    sa.Column("dataset", sa.String(32), nullable=False),
    sa.Column("mis_id", sa.Text, nullable=True),
    sa.Column("record_label", sa.Text, nullable=True),
    sa.Column("field", sa.String(128), nullable=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
)

notification = sa.Table(
    "notification",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", ID, sa.ForeignKey("extract_request.id"), nullable=False, index=True),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime, nullable=True),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.Column("last_status", sa.String(64), nullable=True),
)

audit = sa.Table(
    "audit",
    metadata,
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
