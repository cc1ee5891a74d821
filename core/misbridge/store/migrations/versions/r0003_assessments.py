"""Assessments: termly grades from marksheets, one row per pupil, aspect, type and term.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-15

- ``assessment``: a dependent kind like ``exam_result``: identified by the pupil it
  belongs to (``student_id``, an internal id) and its subject, aspect, grade type and
  term (``ident``); ``result`` and ``result_date`` are its data. No existing row changes.

Written out in full (not imported from the running code) so that this revision always
does the same thing to a store.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(36)
NAME = sa.Text()  # unbounded: a long MIS value must never fail an apply
SHORT = sa.Text()


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", ID, primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("disabled_at", sa.DateTime, nullable=True),
        sa.Column("purged_at", sa.DateTime, nullable=True),
        sa.Column("digest", sa.String(32), nullable=True),
        sa.Column("ident", sa.Text, nullable=False),
        sa.Column("student_id", ID, nullable=False),
        sa.Column("subject", NAME),
        sa.Column("aspect", NAME),
        sa.Column("grade_type", SHORT),
        sa.Column("term", NAME),
        sa.Column("result", NAME),
        sa.Column("result_date", sa.Date),
    )
    op.create_index("ix_assessment_student_id", "assessment", ["student_id"])


def downgrade() -> None:  # pragma: no cover - stores are never downgraded
    raise NotImplementedError("misbridge stores are never downgraded")
