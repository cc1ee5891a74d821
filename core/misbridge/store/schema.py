"""The store's tables (SQLAlchemy Core), one schema for SQLite and PostgreSQL.

Every roster entity has its own table keyed by an internal id (a UUID as text) that
never changes, whatever MIS the record came from; ``mis_id`` maps each MIS's ids onto
those internal ids. Entity rows are never deleted: ``enabled`` turns false when a
record leaves (``disabled_at`` says when) and ``purged_at`` marks a record whose
personal data retention erased.

The migrations in ``misbridge/store/migrations`` create exactly these tables; a test
compares the two so that they never drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = [
    "ENTITY_TABLES",
    "JSONValue",
    "academic_year",
    "account",
    "assessment",
    "audit",
    "checkpoint",
    "exam_result",
    "guard_ledger",
    "membership",
    "metadata",
    "mis_id",
    "photo",
    "plan",
    "roster_group",
    "run",
    "run_error",
    "school",
    "staff",
    "store_state",
    "student",
    "year_group",
]

metadata = sa.MetaData()

#: JSON on SQLite, JSONB on PostgreSQL; SQL NULL (not JSON ``null``) for None.
JSONValue = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)

ID = sa.String(36)
NAME = sa.Text()  # unbounded: a long MIS value must never fail an apply
SHORT = sa.Text()


def _school_column(*, nullable: bool = False) -> sa.Column[str]:
    """The school a row belongs to: a trust's schools share one store (since r0004)."""
    return sa.Column("school", SHORT, nullable=nullable)


def _entity(name: str, *columns: sa.Column[object]) -> sa.Table:
    """A roster table: the internal id, its school, lifecycle columns, then the model's
    fields."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", ID, primary_key=True),
        sa.Column("school", SHORT, nullable=False, index=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        sa.Column("disabled_at", sa.DateTime, nullable=True),
        sa.Column("purged_at", sa.DateTime, nullable=True),
        # A fingerprint of the data columns: an unchanged record is recognised without
        # reading its row back (see kinds.Kind.digest).
        sa.Column("digest", sa.String(32), nullable=True),
        *columns,
    )


academic_year = _entity(
    "academic_year",
    sa.Column("name", NAME),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
)

year_group = _entity(
    "year_group",
    sa.Column("name", NAME),
    sa.Column("code", SHORT),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
)

staff = _entity(
    "staff",
    sa.Column("title", SHORT),
    sa.Column("forename", NAME),
    sa.Column("surname", NAME),
    sa.Column("gender", SHORT),
    sa.Column("work_email", NAME),
    sa.Column("staff_code", SHORT),
)

student = _entity(
    "student",
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
    sa.Column("sen", JSONValue),
    sa.Column("year_group", SHORT),
    sa.Column("admission_date", sa.Date),
    sa.Column("leaving_date", sa.Date),
    sa.Column("home_address", JSONValue),
    sa.Column("home_telephone", SHORT),
    sa.Column("mobile_telephone", SHORT),
    sa.Column("personal_email", NAME),
    sa.Column("work_email", NAME),
)

roster_group = _entity(
    "roster_group",
    sa.Column("name", NAME),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", NAME),
    sa.Column("code", SHORT),
)

# A membership points at a roster_group or a year_group (kind "year") and at a student
# or a member of staff, so group_id and person_id carry no foreign key.
# ``ident`` (memberships, photos, exam results) is the record's identity as one text:
# its references and key fields joined by IDENT_SEP (see kinds.Kind.ident).
membership = _entity(
    "membership",
    sa.Column("ident", sa.Text, nullable=False),
    sa.Column("group_id", ID, nullable=False, index=True),
    sa.Column("group_kind", sa.String(16), nullable=False),
    sa.Column("person_id", ID, nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
)

photo = _entity(
    "photo",
    sa.Column("ident", sa.Text, nullable=False),
    sa.Column("person_id", ID, nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("media_type", SHORT),
    sa.Column("sha256", SHORT),
    sa.Column("data", sa.LargeBinary),
)

exam_result = _entity(
    "exam_result",
    sa.Column("ident", sa.Text, nullable=False),
    sa.Column("student_id", ID, nullable=False, index=True),
    sa.Column("series", NAME),
    sa.Column("qualification", NAME),
    sa.Column("subject", NAME),
    sa.Column("grade", SHORT),
    sa.Column("result_date", sa.Date),
)

# One termly grade: a pupil's value for one marksheet column (aspect) in one term.
assessment = _entity(
    "assessment",
    sa.Column("ident", sa.Text, nullable=False),
    sa.Column("student_id", ID, nullable=False, index=True),
    sa.Column("subject", NAME),
    sa.Column("aspect", NAME),
    sa.Column("grade_type", SHORT),
    sa.Column("term", NAME),
    sa.Column("result", NAME),
    sa.Column("result_date", sa.Date),
)

ENTITY_TABLES: tuple[sa.Table, ...] = (
    academic_year,
    year_group,
    staff,
    student,
    roster_group,
    membership,
    photo,
    exam_result,
    assessment,
)

# One login per person. The username is unique across every account of a school,
# students and staff alike; the contact preference is written once, when the account is
# created.
account = sa.Table(
    "account",
    metadata,
    sa.Column("person_id", ID, primary_key=True),
    _school_column(),
    sa.Column("person_kind", sa.String(16), nullable=False),
    sa.Column("username", NAME, nullable=True),
    sa.Column("contact_preference", sa.String(16), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("school", "username", name="uq_account_school_username"),
)

# "entity" is the id space: student, staff, academic_year, year_group, or
# group.<kind> (an MIS may number classes and registration groups separately).
mis_id = sa.Table(
    "mis_id",
    metadata,
    sa.Column("school", SHORT, primary_key=True),
    sa.Column("entity", sa.String(32), primary_key=True),
    sa.Column("mis", SHORT, primary_key=True),
    sa.Column("mis_id", NAME, primary_key=True),
    sa.Column("internal_id", ID, nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("internal_id", "mis", name="uq_mis_id_internal_mis"),
)

# One row: which store this is.
store_state = sa.Table(
    "store_state",
    metadata,
    sa.Column("singleton", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("store_id", ID, nullable=False),
)

# One row per school: how many times its roster changed. A plan records the revision it
# was computed against and is applied only if it still holds, so two schools' syncs never
# wait for each other. ``legacy`` marks what a one-school store held before r0004 (under
# the key "default"): the first named run may claim it (see docs/store.md).
school = sa.Table(
    "school",
    metadata,
    sa.Column("name", SHORT, primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("legacy", sa.Boolean, nullable=False),
)

run = sa.Table(
    "run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("school", SHORT, nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
    sa.Column("mis", SHORT, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("plan_hash", SHORT, nullable=False),
    sa.Column("base_revision", sa.Integer, nullable=False),
    sa.Column("counts", JSONValue, nullable=False),
    sa.Column("writes", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
)

run_error = sa.Table(
    "run_error",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("run.id"), nullable=False, index=True),
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

# Plans refused by the guard wait here for review; applied plans stay as the record of
# what each run changed. Retention clears old bodies (they hold personal data).
plan = sa.Table(
    "plan",
    metadata,
    sa.Column("hash", SHORT, primary_key=True),
    sa.Column("school", SHORT, nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("mis", SHORT, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("base_revision", sa.Integer, nullable=False),
    sa.Column("summary", JSONValue, nullable=False),
    sa.Column("body", sa.Text, nullable=True),
)

# Where each dataset's last applied read ended, per MIS and school: an incremental read
# asks for changes after it. Written in the apply's transaction, so that a refused or
# failed sync never moves it on.
checkpoint = sa.Table(
    "checkpoint",
    metadata,
    sa.Column("school", SHORT, primary_key=True),
    sa.Column("mis", SHORT, primary_key=True),
    sa.Column("dataset", sa.String(32), primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("mark", JSONValue, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Per applied plan and kind: how many records it disabled and re-enabled, of how many
# active, so that the guard can judge the window since the last approval, not only
# tonight.
guard_ledger = sa.Table(
    "guard_ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("school", SHORT, nullable=False, index=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("plan_hash", SHORT, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("disabled", sa.Integer, nullable=False),
    sa.Column("reenabled", sa.Integer, nullable=False),
    sa.Column("active_before", sa.Integer, nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    _school_column(nullable=True),  # None: the whole store (a purge of every school)
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", JSONValue, nullable=False),
)
