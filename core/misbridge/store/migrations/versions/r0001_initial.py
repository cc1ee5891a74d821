"""The first store schema: roster tables, accounts, MIS ids, runs, plans, audit.

Revision ID: 0001
Revises:
Create Date: 2026-04-01

Written out in full (not generated from ``schema.py`` at run time) so that a later
change to ``schema.py`` can never change what this revision did to existing stores.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
ID = sa.String(36)
NAME = sa.Text()  # unbounded: a long MIS value must never fail an apply
SHORT = sa.Text()


def _lifecycle() -> list[sa.Column[object]]:
    return [
        sa.Column("id", ID, primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("disabled_at", sa.DateTime, nullable=True),
        sa.Column("purged_at", sa.DateTime, nullable=True),
        sa.Column("digest", sa.String(32), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "academic_year",
        *_lifecycle(),
        sa.Column("name", NAME),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
    )
    op.create_table(
        "year_group",
        *_lifecycle(),
        sa.Column("name", NAME),
        sa.Column("code", SHORT),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
    )
    op.create_table(
        "staff",
        *_lifecycle(),
        sa.Column("title", SHORT),
        sa.Column("forename", NAME),
        sa.Column("surname", NAME),
        sa.Column("gender", SHORT),
        sa.Column("work_email", NAME),
        sa.Column("staff_code", SHORT),
    )
    op.create_table(
        "student",
        *_lifecycle(),
        sa.Column("admission_number", SHORT),
        sa.Column("upn", SHORT),
        sa.Column("legal_forename", NAME),
        sa.Column("legal_surname", NAME),
        sa.Column("preferred_forename", NAME),
        sa.Column("preferred_surname", NAME),
        sa.Column("gender", SHORT),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("ethnicity", SHORT),
        sa.Column("eal", sa.Boolean),
        sa.Column("fsm", sa.Boolean),
        sa.Column("pupil_premium", sa.Boolean),
        sa.Column("service_child", sa.Boolean),
        sa.Column("sen", JSON),
        sa.Column("year_group", SHORT),
        sa.Column("admission_date", sa.Date),
        sa.Column("leaving_date", sa.Date),
        sa.Column("home_address", JSON),
        sa.Column("home_telephone", SHORT),
        sa.Column("mobile_telephone", SHORT),
        sa.Column("personal_email", NAME),
        sa.Column("work_email", NAME),
    )
    op.create_table(
        "roster_group",
        *_lifecycle(),
        sa.Column("name", NAME),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", NAME),
        sa.Column("code", SHORT),
    )
    op.create_table(
        "membership",
        *_lifecycle(),
        sa.Column("ident", sa.Text, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("group_kind", sa.String(16), nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
    )
    op.create_index("ix_membership_group_id", "membership", ["group_id"])
    op.create_index("ix_membership_person_id", "membership", ["person_id"])
    op.create_table(
        "photo",
        *_lifecycle(),
        sa.Column("ident", sa.Text, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("media_type", SHORT),
        sa.Column("sha256", SHORT),
        sa.Column("data", sa.LargeBinary),
    )
    op.create_index("ix_photo_person_id", "photo", ["person_id"])
    op.create_table(
        "exam_result",
        *_lifecycle(),
        sa.Column("ident", sa.Text, nullable=False),
        sa.Column("student_id", ID, nullable=False),
        sa.Column("series", NAME),
        sa.Column("qualification", NAME),
        sa.Column("subject", NAME),
        sa.Column("grade", SHORT),
        sa.Column("result_date", sa.Date),
    )
    op.create_index("ix_exam_result_student_id", "exam_result", ["student_id"])
    op.create_table(
        "account",
        sa.Column("person_id", ID, primary_key=True),
        sa.Column("person_kind", sa.String(16), nullable=False),
        sa.Column("username", NAME, nullable=True, unique=True),
        sa.Column("contact_preference", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "mis_id",
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("mis", SHORT, primary_key=True),
        sa.Column("mis_id", NAME, primary_key=True),
        sa.Column("internal_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("internal_id", "mis", name="uq_mis_id_internal_mis"),
    )
    op.create_index("ix_mis_id_internal_id", "mis_id", ["internal_id"])
    state = op.create_table(
        "store_state",
        sa.Column("singleton", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("store_id", ID, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.bulk_insert(state, [{"singleton": 1, "store_id": str(uuid.uuid4()), "revision": 0}])
    op.create_table(
        "run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.Column("mis", SHORT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plan_hash", SHORT, nullable=False),
        sa.Column("base_revision", sa.Integer, nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("writes", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
    )
    op.create_table(
        "run_error",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("run.id"), nullable=False),
        sa.Column("dataset", SHORT, nullable=False),
        sa.Column("mis", SHORT),
        sa.Column("mis_id", NAME),
        sa.Column("record_label", NAME),
        sa.Column("field", SHORT),
        sa.Column("code", SHORT, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_run_error_run_id", "run_error", ["run_id"])
    op.create_table(
        "plan",
        sa.Column("hash", SHORT, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("mis", SHORT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("base_revision", sa.Integer, nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("body", sa.Text, nullable=True),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", JSON, nullable=False),
    )


def downgrade() -> None:
    # A store is never downgraded: misbridge refuses to open a store newer than itself.
    raise NotImplementedError("misbridge stores are never downgraded")
