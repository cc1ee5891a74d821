"""The store's current roster, as a plan needs it.

A plan compares an extract with the store inside one read transaction (REPEATABLE
READ on PostgreSQL, a single read transaction on SQLite); the store revision read
first travels with the plan, so a plan made against an older state is never applied.

Most nights almost nothing changed, so the snapshot is *light*: per row only the
internal id, its status, the digest of its data and (for memberships, photos and exam
results) its identity key. Full rows are fetched on demand, in batches, for the few
records that differ, for natural-key matching and for labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from attrs import define, field

from misbridge.model import Dataset
from misbridge.reads import Checkpoint
from misbridge.store import schema
from misbridge.store.kinds import KINDS, Kind, fold

__all__ = [
    "KindState",
    "LedgerEntry",
    "Row",
    "StoreState",
    "load_checkpoints",
    "load_state",
    "school_revision",
    "username_owners",
]

_BATCH = 500


@define
class Row:
    id: str
    enabled: bool
    purged: bool
    digest: str | None
    ident: str | None = None  # dependent kinds: identity (see Kind.ident)
    mis_id: str | None = None  # this MIS's id for it, if any (for labels)
    values: dict[str, Any] | None = None  # every data column, once fetched


@define
class KindState:
    kind: Kind
    conn: sa.Connection = field(repr=False)
    rows: dict[str, Row] = field(factory=dict)
    #: (id space, MIS id) -> internal id, for the MIS being planned.
    by_ident: dict[tuple[str, str], str] = field(factory=dict)
    #: Dependent kinds: identity -> internal id (purged rows are inert).
    by_key: dict[str, str] = field(factory=dict)

    @property
    def active(self) -> int:
        return sum(1 for r in self.rows.values() if r.enabled and not r.purged)

    def fetch(self, ids: Iterable[str]) -> None:
        """Read the full rows of ``ids`` that are not read yet."""
        wanted = sorted({i for i in ids if i in self.rows and self.rows[i].values is None})
        table = self.kind.table
        columns = [table.c[c] for c in self.kind.columns if c != "data"]  # photo bytes stay
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            query = sa.select(table.c.id, *columns).where(table.c.id.in_(chunk))
            for row in self.conn.execute(query):
                self.rows[row[0]].values = dict(
                    zip((c.name for c in columns), row[1:], strict=True)
                )

    def values(self, rid: str) -> dict[str, Any]:
        self.fetch((rid,))
        values = self.rows[rid].values
        assert values is not None
        return values


@define
class LedgerEntry:
    """One applied plan's disables and re-enables of one kind (the cumulative guard)."""

    id: int
    plan_hash: str
    kind: str
    as_of_ordinal: int
    disabled: int
    reenabled: int
    active_before: int
    approved: bool


@define
class StoreState:
    store_id: str
    revision: int  # the school's revision (its own roster's changes)
    mis: str
    kinds: dict[str, KindState]
    #: Every account's username, by person id.
    usernames: dict[str, str]
    #: Internal ids holding an id from the MIS being planned.
    linked: set[str]
    #: Applied plans' disables, oldest first, as far back as a guard window can reach.
    ledger: list[LedgerEntry] = field(factory=list)
    #: The school the plan is for.
    school: str = "default"
    #: The legacy school (what a one-school store held before r0004) this plan claims:
    #: its rows were read, and applying the plan moves them to ``school``.
    claims: str | None = None

    @property
    def source(self) -> str:
        """The school key whose rows this state holds."""
        return self.claims or self.school

    @property
    def last_approval(self) -> LedgerEntry | None:
        approved = [e for e in self.ledger if e.approved]
        return approved[-1] if approved else None

    def attach(self, conn: sa.Connection) -> None:
        """Read further rows on demand through ``conn`` (a new read transaction)."""
        for ks in self.kinds.values():
            ks.conn = conn

    def find(self, rid: str) -> tuple[KindState, Row] | None:
        for ks in self.kinds.values():
            row = ks.rows.get(rid)
            if row is not None:
                return ks, row
        return None


def _raw(conn: sa.Connection, sql: str, school: str) -> Sequence[Any]:
    # The one hot read (tens of thousands of rows a night) goes straight to the driver:
    # SQLAlchemy's per-row processing would triple its cost. Table and column names
    # come from our own schema, never from input; every value read is text except the
    # two flags, which bool() makes alike on both backends.
    driver_error = conn.dialect.loaded_dbapi.Error
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.replace(":school", marker), (school,))
        return cursor.fetchall()
    except driver_error as exc:  # as SQLAlchemy would have wrapped it
        raise sa.exc.DBAPIError.instance(sql, None, exc, driver_error) from exc
    finally:
        cursor.close()


def _kind_of_entity(entity: str) -> str:
    return "group" if entity.startswith("group.") else entity


def school_revision(conn: sa.Connection, school: str) -> int:
    """The school's revision (0 for a school the store has never applied anything for)."""
    table = schema.school
    found = conn.execute(sa.select(table.c.revision).where(table.c.name == school)).scalar()
    return int(found or 0)


def load_state(
    conn: sa.Connection,
    mis: str,
    kinds: Iterable[Kind] = KINDS,
    *,
    school: str = "default",
    claims: str | None = None,
) -> StoreState:
    """The roster of ``school`` (of ``claims``, the legacy school it claims, if given)."""
    store_id = conn.execute(sa.select(schema.store_state.c.store_id)).scalar_one()
    source = claims or school
    loaded: dict[str, KindState] = {}
    for kind in kinds:
        ks = loaded[kind.name] = KindState(kind, conn)
        ident = "ident" if kind.key_columns else "NULL"
        sql = (
            f"SELECT id, enabled, purged_at IS NOT NULL, digest, {ident} "  # noqa: S608
            f"FROM {kind.table.name} WHERE school = :school"
        )
        rows, by_key = ks.rows, ks.by_key
        for rid, enabled, purged, digest, key in _raw(conn, sql, source):
            rows[rid] = Row(rid, bool(enabled), bool(purged), digest, key)
            if key is not None and not purged:
                by_key.setdefault(key, rid)
    linked: set[str] = set()
    ids = schema.mis_id
    query = sa.select(ids.c.entity, ids.c.mis_id, ids.c.internal_id).where(
        ids.c.mis == mis, ids.c.school == source
    )
    for entity, mis_id, internal_id in conn.execute(query):
        linked.add(internal_id)
        owner = loaded.get(_kind_of_entity(entity))
        if owner is not None:
            owner.by_ident[(entity, mis_id)] = internal_id
            if internal_id in owner.rows:
                owner.rows[internal_id].mis_id = mis_id
    accounts = schema.account
    named = sa.select(accounts.c.person_id, accounts.c.username).where(
        accounts.c.username.is_not(None), accounts.c.school == source
    )
    usernames: dict[str, str] = {row.person_id: row.username for row in conn.execute(named)}
    return StoreState(
        store_id=store_id,
        revision=school_revision(conn, source),
        mis=mis,
        kinds=loaded,
        usernames=usernames,
        linked=linked,
        ledger=_ledger(conn, source),
        school=school,
        claims=claims,
    )


def _ledger(conn: sa.Connection, school: str) -> list[LedgerEntry]:
    table = schema.guard_ledger
    # Everything after the last approval matters, and nothing older than a year does.
    last = conn.execute(
        sa.select(sa.func.max(table.c.id)).where(
            table.c.approved.is_(True), table.c.school == school
        )
    ).scalar()
    query = sa.select(table).where(table.c.school == school).order_by(table.c.id)
    if last is not None:
        query = query.where(table.c.id >= last)
    return [
        LedgerEntry(
            r.id,
            r.plan_hash,
            r.kind,
            r.as_of.toordinal(),
            r.disabled,
            r.reenabled,
            r.active_before,
            bool(r.approved),
        )
        for r in conn.execute(query)
    ]


def load_checkpoints(conn: sa.Connection, mis: str, school: str) -> dict[Dataset, Checkpoint]:
    """Where each dataset's last applied read of this MIS and school ended."""
    table = schema.checkpoint
    query = sa.select(table.c.dataset, table.c.at, table.c.mark).where(
        table.c.mis == mis, table.c.school == school
    )
    found: dict[Dataset, Checkpoint] = {}
    for dataset, at, mark in conn.execute(query):
        try:
            found[Dataset(dataset)] = Checkpoint(at.replace(tzinfo=UTC), mark)
        except ValueError:
            continue  # a dataset this version does not know: it starts afresh
    return found


def username_owners(usernames: dict[str, str]) -> dict[str, str]:
    """Folded username -> person id: usernames are unique whatever their case."""
    owners: dict[str, str] = {}
    for person, name in usernames.items():
        folded = fold(name)
        if folded is not None:
            owners.setdefault(folded, person)
    return owners
