"""Applying a plan: every write of one sync, inside the caller's single transaction.

The first write moves the store's revision on, on condition that it is still the one
the plan was computed against: a plan made before another apply, a ``switch-mis`` or
a purge is refused instead of being applied over a state it never saw. Nothing here
deletes a roster row; leavers are disabled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from misbridge.errors import RecordError, StoreError
from misbridge.store import schema
from misbridge.store.bulk import insert_rows
from misbridge.store.ids import new_ids
from misbridge.store.kinds import KINDS, KINDS_BY_NAME, Kind
from misbridge.store.plan import Create, Plan, Update

__all__ = [
    "apply_plan",
    "check_base",
    "claim_legacy",
    "record_ledger",
    "record_run",
    "save_checkpoints",
    "save_plan",
]

_REF_COLUMNS = ("group_id", "person_id", "student_id")


#: Every table whose rows carry a school key (``checkpoint`` is moved on its own).
_SCHOOL_TABLES = (
    *(k.table for k in KINDS),
    schema.account,
    schema.mis_id,
    schema.run,
    schema.plan,
    schema.guard_ledger,
    schema.audit,
)


def check_base(conn: sa.Connection, plan: Plan, *, claim: bool, now: datetime) -> None:
    """Refuse a plan made against another store or an older state of its school.

    With ``claim`` the school's revision is moved on in the same statement, which also
    takes the write lock on the school's row, so two concurrent applies of plans from one
    state cannot both succeed, while two schools' applies never wait for each other (on
    PostgreSQL; SQLite has one writer at a time anyway). A plan that claims the legacy
    school moves its rows to the plan's school first.
    """
    store_id = conn.execute(sa.select(schema.store_state.c.store_id)).scalar_one()
    if store_id != plan.store_id:
        raise StoreError("this plan was made for another store; make the plan again here")
    source = plan.claims or plan.school
    table = schema.school
    current = conn.execute(
        sa.select(table.c.revision, table.c.legacy).where(table.c.name == source)
    ).first()
    revision = int(current.revision) if current is not None else 0
    stale = StoreError(
        f"the store changed since this plan was made (school {plan.school}: revision "
        f"{plan.base_revision}, now {revision}): nothing was applied; make the plan again"
    )
    if revision != plan.base_revision:
        raise stale
    if plan.claims is not None and (current is None or not current.legacy):
        raise StoreError(
            f"the records this plan claims (school key {plan.claims!r}) were claimed by "
            "another school meanwhile: nothing was applied; make the plan again"
        )
    if not claim:
        return
    if current is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    table.insert().values(
                        name=plan.school, revision=1, created_at=now, legacy=False
                    )
                )
        except sa.exc.IntegrityError:
            raise stale from None
        return
    moved = conn.execute(
        table.update()
        .where(table.c.name == source, table.c.revision == plan.base_revision)
        .values(revision=table.c.revision + 1, name=plan.school, legacy=False)
    )
    if moved.rowcount != 1:
        raise stale
    if plan.claims is not None:
        claim_legacy(conn, plan.claims, plan.school)


def claim_legacy(conn: sa.Connection, legacy: str, school: str) -> None:
    """File every row of the legacy school under ``school`` (in the caller's transaction)."""
    for table in _SCHOOL_TABLES:
        conn.execute(table.update().where(table.c.school == legacy).values(school=school))
    marks = schema.checkpoint
    taken = {
        (row.mis, row.dataset)
        for row in conn.execute(
            sa.select(marks.c.mis, marks.c.dataset).where(marks.c.school == school)
        )
    }
    for row in conn.execute(
        sa.select(marks.c.mis, marks.c.dataset).where(marks.c.school == legacy)
    ).all():
        if (row.mis, row.dataset) not in taken:
            conn.execute(
                marks.update()
                .where(
                    marks.c.school == legacy,
                    marks.c.mis == row.mis,
                    marks.c.dataset == row.dataset,
                )
                .values(school=school)
            )


def apply_plan(conn: sa.Connection, plan: Plan, now: datetime) -> int:
    """Write ``plan``; return the number of roster rows written."""
    check_base(conn, plan, claim=not plan.empty or plan.claims is not None, now=now)
    if plan.empty:
        return 0
    creates = [create.ref for dplan in plan.datasets.values() for create in dplan.creates]
    refs = dict(zip(creates, new_ids(len(creates)), strict=True))
    writes = _usernames(conn, plan)
    writes += _creates(conn, plan, refs, now)
    writes += _updates(conn, plan, now)
    writes += _statuses(conn, plan, now)
    return writes


def _resolve(values: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    for column in _REF_COLUMNS:
        ref = values.get(column)
        if isinstance(ref, str) and ref.startswith("new:"):
            values[column] = refs[ref]
    return values


def _run(conn: sa.Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> int:
    if rows:
        conn.execute(statement, list(rows))
    return len(rows)


def _creates(conn: sa.Connection, plan: Plan, refs: dict[str, str], now: datetime) -> int:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    accounts: list[dict[str, Any]] = []
    ids: list[dict[str, Any]] = []
    lifecycle = {"school": plan.school, "created_at": now, "changed_at": now, "purged_at": None}
    for dplan in plan.datasets.values():
        for c in dplan.creates:
            rid = refs[c.ref]
            kind = KINDS_BY_NAME[c.kind]
            row = dict(c.values)
            if kind.ref_columns:  # only dependent records point at others
                _resolve(row, refs)
            row["digest"] = _digest(kind, c, row)
            if kind.key_columns:
                row["ident"] = kind.ident(row)  # with the new records' internal ids
            if c.kind == "photo":
                row["data"] = plan.blobs[row["sha256"]]
            row.update(lifecycle)
            row["id"] = rid
            row["enabled"] = c.enabled
            row["disabled_at"] = None if c.enabled else now
            by_kind.setdefault(c.kind, []).append(row)
            if c.account is not None:
                accounts.append(
                    {
                        "person_id": rid,
                        "school": plan.school,
                        "person_kind": c.kind,
                        "username": c.account["username"],
                        "contact_preference": c.account["contact_preference"],
                        "created_at": now,
                    }
                )
            if c.entity is not None and c.mis_id is not None:
                ids.append(_mis_id(plan.school, c.entity, plan.mis, c.mis_id, rid, now))
        for link in dplan.links:
            ids.append(_mis_id(plan.school, link.entity, plan.mis, link.mis_id, link.id, now))
    writes = 0
    for kind in KINDS:  # people and groups before what points at them
        writes += insert_rows(conn, kind.table, by_kind.get(kind.name, []))
    writes += insert_rows(conn, schema.account, accounts)
    writes += insert_rows(conn, schema.mis_id, ids)
    return writes


def _digest(kind: Kind, create: Create, row: dict[str, Any]) -> str:
    # The planner's digest of a dependent record covers the same values (its data, not
    # its references): tens of thousands a first apply, so not computed twice.
    return create.digest if create.digest is not None else kind.digest(row)


def _mis_id(
    school: str, entity: str, mis: str, mis_id: str, rid: str, now: datetime
) -> dict[str, Any]:
    return {
        "school": school,
        "entity": entity,
        "mis": mis,
        "mis_id": mis_id,
        "internal_id": rid,
        "created_at": now,
    }


def _usernames(conn: sa.Connection, plan: Plan) -> int:
    # In the planner's order: a username given up earlier in the plan may be taken later.
    rows = [
        {"p_id": u.id, "p_username": u.changes["username"].new}
        for dplan in plan.datasets.values()
        for u in dplan.updates
        if "username" in u.changes
    ]
    table = schema.account
    statement = (
        table.update()
        .where(table.c.person_id == sa.bindparam("p_id"))
        .values(username=sa.bindparam("p_username"))
    )
    return _run(conn, statement, rows)


def _updates(conn: sa.Connection, plan: Plan, now: datetime) -> int:
    groups: dict[tuple[str, tuple[str, ...]], list[Update]] = {}
    for dplan in plan.datasets.values():
        for u in dplan.updates:
            columns = tuple(sorted(c for c in u.changes if c != "username"))
            if columns:
                groups.setdefault((u.kind, columns), []).append(u)
    writes = 0
    for (kind_name, columns), updates in groups.items():
        kind = KINDS_BY_NAME[kind_name]
        with_data = kind.name == "photo" and "sha256" in columns
        set_columns = (*columns, "digest", "data") if with_data else (*columns, "digest")
        rows = []
        for u in updates:
            row = {f"p_{c}": u.changes[c].new for c in columns}
            row["p_digest"] = u.digest
            if with_data:
                row["p_data"] = plan.blobs[u.changes["sha256"].new]
            row.update(p_id=u.id, p_now=now)
            rows.append(row)
        writes += _run(conn, _update_statement(kind, set_columns), rows)
    return writes


def _update_statement(kind: Kind, columns: Iterable[str]) -> Any:
    table = kind.table
    values: dict[str, Any] = {c: sa.bindparam(f"p_{c}") for c in columns}
    values["changed_at"] = sa.bindparam("p_now")
    return table.update().where(table.c.id == sa.bindparam("p_id")).values(values)


def _statuses(conn: sa.Connection, plan: Plan, now: datetime) -> int:
    writes = 0
    for enabled in (False, True):
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for dplan in plan.datasets.values():
            for change in dplan.reenables if enabled else dplan.disables:
                by_kind.setdefault(change.kind, []).append({"p_id": change.id, "p_now": now})
        for kind_name, rows in by_kind.items():
            table = KINDS_BY_NAME[kind_name].table
            statement = (
                table.update()
                .where(table.c.id == sa.bindparam("p_id"))
                .values(
                    enabled=enabled,
                    changed_at=sa.bindparam("p_now"),
                    disabled_at=None if enabled else sa.bindparam("p_now"),
                )
            )
            writes += _run(conn, statement, rows)
    return writes


def save_plan(conn: sa.Connection, plan: Plan, status: str, now: datetime) -> None:
    """Keep the plan (refused: for review; applied: as the record of what changed)."""
    table = schema.plan
    exists = conn.execute(sa.select(table.c.hash).where(table.c.hash == plan.hash)).first()
    if exists is not None:
        conn.execute(table.update().where(table.c.hash == plan.hash).values(status=status))
        return
    conn.execute(
        table.insert().values(
            hash=plan.hash,
            school=plan.school,
            created_at=now,
            mis=plan.mis,
            status=status,
            base_revision=plan.base_revision,
            summary={"counts": plan.counts(), "breaches": [b.as_dict() for b in plan.breaches]},
            body=plan.body,
        )
    )


def record_run(
    conn: sa.Connection,
    plan: Plan,
    *,
    status: str,
    started: datetime,
    finished: datetime,
    writes: int,
) -> int:
    errors: list[RecordError] = [*plan.extract_errors, *plan.errors]
    run_id: int = conn.execute(
        schema.run.insert()
        .values(
            school=plan.school,
            started_at=started,
            finished_at=finished,
            mis=plan.mis,
            status=status,
            plan_hash=plan.hash,
            base_revision=plan.base_revision,
            counts=plan.counts(),
            writes=writes,
            errors=len(errors),
        )
        .returning(schema.run.c.id)
    ).scalar_one()
    rows = [
        {
            "run_id": run_id,
            "dataset": e.dataset,
            "mis": e.mis,
            "mis_id": e.mis_id,
            "record_label": e.record_label,
            "field": e.field,
            "code": e.code,
            "severity": e.severity.value,
            "stage": e.stage.value,
            "message": e.message,
        }
        for e in errors
    ]
    _run(conn, schema.run_error.insert(), rows)
    return run_id


def record_ledger(conn: sa.Connection, plan: Plan, *, approved: bool, now: datetime) -> None:
    """What this plan disabled and re-enabled, per kind, for the cumulative guard. An
    approved plan gets an entry for every kind: the next window starts after it."""
    disabled: dict[str, int] = {}
    reenabled: dict[str, int] = {}
    for dplan in plan.datasets.values():
        for change in dplan.disables:
            disabled[change.kind] = disabled.get(change.kind, 0) + 1
        for change in dplan.reenables:
            reenabled[change.kind] = reenabled.get(change.kind, 0) + 1
    kinds = set(disabled) | set(reenabled)
    if approved:
        kinds |= {k.name for k in KINDS}
    if not kinds:
        return
    active = _active_before(conn, plan, kinds, disabled, reenabled)
    rows = [
        {
            "school": plan.school,
            "applied_at": now,
            "as_of": plan.as_of,
            "plan_hash": plan.hash,
            "kind": kind,
            "disabled": disabled.get(kind, 0),
            "reenabled": reenabled.get(kind, 0),
            "active_before": active[kind],
            "approved": approved,
        }
        for kind in sorted(kinds)
    ]
    _run(conn, schema.guard_ledger.insert(), rows)


def _active_before(
    conn: sa.Connection,
    plan: Plan,
    kinds: set[str],
    disabled: dict[str, int],
    reenabled: dict[str, int],
) -> dict[str, int]:
    # Counted after the writes, in the same transaction: undo this plan's own changes.
    created: dict[str, int] = {}
    for dplan in plan.datasets.values():
        for create in dplan.creates:
            if create.enabled:
                created[create.kind] = created.get(create.kind, 0) + 1
    found = {}
    for kind in kinds:
        table = KINDS_BY_NAME[kind].table
        now_active = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(
                table.c.school == plan.school,
                table.c.enabled.is_(True),
                table.c.purged_at.is_(None),
            )
        ).scalar_one()
        found[kind] = (
            int(now_active) + disabled.get(kind, 0) - reenabled.get(kind, 0) - created.get(kind, 0)
        )
    return found


def save_checkpoints(conn: sa.Connection, plan: Plan, now: datetime) -> None:
    """Keep where each dataset's read ended, now that the sync that used it is applied."""
    table = schema.checkpoint
    for dataset, mark in sorted(plan.checkpoints.items()):
        key = (
            (table.c.school == plan.school)
            & (table.c.mis == plan.mis)
            & (table.c.dataset == dataset.value)
        )
        at = mark.at.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
        values = {"at": at, "mark": mark.mark, "updated_at": now}
        if conn.execute(table.update().where(key).values(values)).rowcount == 0:
            conn.execute(
                table.insert().values(
                    school=plan.school, mis=plan.mis, dataset=dataset.value, **values
                )
            )
