"""Schools: a trust's schools share one store, every record keyed by its school.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10

- every roster table, ``account``, ``mis_id``, ``run``, ``plan``, ``guard_ledger`` and
  ``audit`` get a ``school`` column; what the store held is moved, unchanged, under the
  key ``default``;
- a username is unique within its school (``uq_account_school_username``), and an MIS id
  within its school (``mis_id``'s key starts with the school): two schools of a trust on
  one MIS may number their pupils alike;
- ``school``: one row per school with its own revision (a plan is applied only if its
  school's roster did not change since), so that two schools' syncs never wait for each
  other; ``store_state`` keeps only the store's id. A store that held anything gets a
  ``default`` row marked ``legacy``, at the revision the store had (refused plans awaiting
  review stay approvable): the first run that names its school may claim it;
- an audit entry records the move.

Written out in full (not imported from the running code) so that this revision always
does the same thing to a store.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
SHORT = sa.Text()
LEGACY = "default"

_ENTITIES = (
    "academic_year",
    "year_group",
    "staff",
    "student",
    "roster_group",
    "membership",
    "photo",
    "exam_result",
    "assessment",
)
_KEYED = (*_ENTITIES, "account", "mis_id", "run", "plan", "guard_ledger")
_INDEXED = (*_ENTITIES, "run", "plan", "guard_ledger")


def _batch(table: str) -> AbstractContextManager[BatchOperations]:
    # SQLite: recreate the table (copying every row); the naming convention names the
    # unique constraint r0001 declared without a name, so that it can be dropped.
    return op.batch_alter_table(
        table,
        recreate="auto",
        naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"},
    )


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    held = _held(conn)
    revision_was = conn.execute(sa.text("SELECT revision FROM store_state")).scalar()
    for table in _KEYED:
        with _batch(table) as batch:
            batch.add_column(
                sa.Column("school", SHORT, nullable=False, server_default=sa.text(f"'{LEGACY}'"))
            )
        with _batch(table) as batch:
            batch.alter_column("school", server_default=None, existing_type=SHORT)
    with _batch("audit") as batch:
        batch.add_column(sa.Column("school", SHORT, nullable=True))
    for table in _INDEXED:
        op.create_index(f"ix_{table}_school", table, ["school"])
    with _batch("account") as batch:
        batch.drop_constraint(
            "uq_account_username" if sqlite else "account_username_key", type_="unique"
        )
        batch.create_unique_constraint("uq_account_school_username", ["school", "username"])
    with warnings.catch_warnings(), _batch("mis_id") as batch:
        # SQLAlchemy notes that the copy's key differs from the reflected one: it is meant to.
        warnings.filterwarnings("ignore", r".*specifies columns .* as primary_key=True")
        if not sqlite:  # SQLite's copy takes the new key's columns as they are named
            batch.drop_constraint("mis_id_pkey", type_="primary")
        batch.create_primary_key("mis_id_pkey", ["school", "entity", "mis", "mis_id"])
    schools = op.create_table(
        "school",
        sa.Column("name", SHORT, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("legacy", sa.Boolean, nullable=False),
    )
    with _batch("store_state") as batch:
        batch.drop_column("revision")
    now = datetime.now(UTC).replace(tzinfo=None)
    if any(held.values()):
        op.bulk_insert(
            schools,
            [
                {
                    "name": LEGACY,
                    "revision": int(revision_was or 0),
                    "created_at": now,
                    "legacy": True,
                }
            ],
        )
        audit = sa.table(
            "audit",
            sa.column("at", sa.DateTime),
            sa.column("school", SHORT),
            sa.column("action", sa.String),
            sa.column("detail", JSON),
        )
        conn.execute(
            audit.insert().values(
                at=now,
                school=LEGACY,
                action="migrate",
                detail={"revision": revision, "moved_under": LEGACY, "rows": held},
            )
        )


def _held(conn: sa.Connection) -> dict[str, int]:
    return {
        table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
        for table in (*_ENTITIES, "run", "plan")
    }


def downgrade() -> None:  # pragma: no cover - stores are never downgraded
    raise NotImplementedError("misbridge stores are never downgraded")
