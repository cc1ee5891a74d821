"""The store: ``open_store(url)`` and the operations the CLI and the demo call."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
import structlog

from misbridge.errors import ConfigurationError, GuardRefused, StoreError
from misbridge.gcpause import GcPause
from misbridge.model import Dataset
from misbridge.reads import Checkpoint
from misbridge.result import ExtractResult
from misbridge.store import schema
from misbridge.store.applier import (
    apply_plan,
    check_base,
    record_ledger,
    record_run,
    save_checkpoints,
    save_plan,
)
from misbridge.store.engine import (
    DEFAULT_URL,
    create_store_engine,
    driver_reason,
    redacted,
    write_options,
)
from misbridge.store.guard import GuardPolicy, check_share
from misbridge.store.kinds import KINDS
from misbridge.store.migrate import current_revision, upgrade
from misbridge.store.plan import Plan, approve_command
from misbridge.store.planner import PlanBuilder
from misbridge.store.report import SyncReport
from misbridge.store.retention import purge
from misbridge.store.state import load_checkpoints, load_state, school_revision

__all__ = ["Store", "legacy_claim", "open_store", "resolve_school"]

log = structlog.get_logger()


def _now() -> datetime:
    # Stored as naive UTC: SQLite keeps no time zone, and one rule serves both backends.
    return datetime.now(UTC).replace(tzinfo=None)


def open_store(url: str | None = None) -> Store:
    """Open (creating or upgrading as needed) the store at ``url``.

    ``None`` means ``sqlite:///misbridge.db`` in the current folder. PostgreSQL:
    ``postgresql+psycopg://user@host:5432/database``; add
    ``?options=-csearch_path%3Dmyschema`` to keep the store in its own schema.
    """
    url = url or DEFAULT_URL
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    except StoreError:
        engine.dispose()
        raise
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the store {redacted(url)}: {driver_reason(exc, url)}; "
            "check that the database server is running and reachable, and that the "
            "database and user in the URL exist"
        ) from exc
    return Store(engine)


class Store:
    """A roster store in SQLite or PostgreSQL. See ``docs/store.md``."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def url(self) -> str:
        return redacted(self._engine.url)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _transaction(self, action: str, *, write: bool = False) -> Iterator[sa.Connection]:
        """One transaction; a database failure becomes a :class:`StoreError` that names
        the action and the error's type only (statements' values never reach messages:
        the engine hides them, and they are pupils' data)."""
        try:
            with self._engine.connect() as conn:
                if write:
                    write_options(conn)
                elif conn.dialect.name == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(
                f"the store {self.url} could not {action} ({type(cause).__name__}); the "
                "transaction was rolled back, nothing was changed"
            ) from exc

    # -- sync ---------------------------------------------------------------------------

    def planner(
        self,
        mis: str,
        *,
        lacks: Iterable[str] = (),
        today: date | None = None,
        datasets: Iterable[Dataset] | None = None,
        school: str | None = None,
        claim: bool = True,
    ) -> PlanBuilder:
        """A plan builder over the school's current state, for records streamed in while
        the extract runs (:meth:`finish_plan` makes the plan). Only the light snapshot is
        read here, in its own transaction; nothing is held open during the extract.

        ``school`` names the school (None: the store's only school, see
        :meth:`school_name`). A school the store has never seen, with ``claim``, claims
        what a one-school store held before it was shared (docs/store.md)."""
        wanted = set(Dataset) if datasets is None else set(datasets)
        kinds = [k for k in KINDS if k.identified or k.dataset in wanted]
        with GcPause(), self._transaction("read its roster") as conn:
            name = resolve_school(conn, school)
            claims = legacy_claim(conn, name) if claim else None
            state = load_state(conn, mis, kinds, school=name, claims=claims)
        return PlanBuilder(state, as_of=today or date.today(), lacks=lacks)

    def finish_plan(
        self,
        builder: PlanBuilder,
        result: ExtractResult,
        *,
        policy: GuardPolicy | None = None,
        release_held: bool = False,
    ) -> Plan:
        """The plan of the records ``builder`` took, with ``result``'s outcomes, errors
        and deletions. Writes nothing.

        :raises StoreError: the store changed since the builder read it (another run
            applied meanwhile): nothing was planned; run again.
        """
        with GcPause(), self._transaction("read its roster") as conn:
            revision = school_revision(conn, builder.state.source)
            if revision != builder.state.revision:
                raise StoreError(
                    f"the store changed while this extract ran (school "
                    f"{builder.state.school}: revision {builder.state.revision}, now "
                    f"{revision}): another sync was applied meanwhile; nothing was planned, "
                    "run the extract again"
                )
            builder.state.attach(conn)
            return builder.finish(
                outcomes=result.outcomes,
                errors=result.errors,
                deletions=result.deletions,
                policy=policy,
                release_held=release_held,
                school=builder.state.school,
                claims=builder.state.claims,
                checkpoints=result.checkpoints,
                present=[d for d, r in result.records.items() if r],
            )

    def plan(
        self,
        result: ExtractResult,
        *,
        max_disable_share: float = 0.10,
        today: date | None = None,
        policy: GuardPolicy | None = None,
        release_held: bool = False,
        school: str | None = None,
    ) -> Plan:
        """Compare ``result`` (its records in memory) with ``school``'s records in the
        store (None: the store's only school): what applying it would change, and the
        guard's verdict. Writes nothing."""
        policy = policy or GuardPolicy(max_disable_share=check_share(max_disable_share))
        # The records are in memory already (no extract runs meanwhile). The builder is
        # gone before the collector resumes: its first collection would otherwise scan
        # every object the plan built, the snapshot's included.
        with GcPause():
            return self._plan_of(result, policy, today, school, release_held=release_held)

    def _plan_of(
        self,
        result: ExtractResult,
        policy: GuardPolicy,
        today: date | None,
        school: str | None,
        *,
        release_held: bool,
    ) -> Plan:
        present = set(result.outcomes) | set(result.records) | set(result.deletions)
        builder = self.planner(
            result.mis, lacks=result.lacks, today=today, datasets=present, school=school
        )
        for dataset, records in result.records.items():
            for record in records:
                builder.add(dataset, record)
        return self.finish_plan(builder, result, policy=policy, release_held=release_held)

    def checkpoints(self, mis: str, school: str) -> dict[Dataset, Checkpoint]:
        """Where each dataset's last applied read of ``mis`` for ``school`` ended."""
        with self._transaction("read its checkpoints") as conn:
            return load_checkpoints(conn, mis, school)

    def apply(self, plan: Plan, *, approve: str | None = None) -> SyncReport:
        """Apply ``plan`` in one transaction, with its checkpoints.

        :raises GuardRefused: the plan breaks the guard and ``approve`` is not its hash
            (the plan is saved for review), or ``approve`` names another plan.
        :raises StoreError: the store changed since the plan was made.
        """
        started, clock = _now(), time.perf_counter()
        approved = approve is not None and approve == plan.hash
        if (plan.breaches or approve is not None) and not approved:
            self._refuse(plan, approve, started)
        # The collector runs during an apply (unlike planning): paused, a trust's first
        # night held 150-200 MB more (the cyclic garbage of tens of thousands of inserts
        # waits for the pause to end) and was no faster.
        with self._transaction("apply the plan", write=True) as conn:
            now = _now()
            writes = apply_plan(conn, plan, now)
            if not plan.empty:
                save_plan(conn, plan, "applied", now)
            if approved and plan.breaches:
                detail = {"plan": plan.hash, "mis": plan.mis}
                self._audit(conn, "approve", detail, now, plan.school)
            if plan.claims is not None:
                detail = {"claimed": plan.claims, "plan": plan.hash}
                self._audit(conn, "claim", detail, now, plan.school)
            record_ledger(conn, plan, approved=approved and bool(plan.breaches), now=now)
            save_checkpoints(conn, plan, now)
            run_id = record_run(
                conn, plan, status="applied", started=started, finished=_now(), writes=writes
            )
        log.info(
            "store.applied",
            school=plan.school,
            mis=plan.mis,
            plan=plan.hash,
            writes=writes,
            run=run_id,
        )
        return SyncReport.from_plan(
            plan,
            applied=True,
            approved=approved and bool(plan.breaches),
            writes=writes,
            run_id=run_id,
            seconds=time.perf_counter() - clock,
        )

    def _refuse(self, plan: Plan, approve: str | None, started: datetime) -> None:
        with self._transaction("save the refused plan", write=True) as conn:
            now = _now()
            check_base(conn, plan, claim=False, now=now)
            save_plan(conn, plan, "refused", now)
            record_run(conn, plan, status="refused", started=started, finished=now, writes=0)
        log.warning(
            "store.refused",
            school=plan.school,
            mis=plan.mis,
            plan=plan.hash,
            breaches=len(plan.breaches),
        )
        lines = ["The sync was refused by the safety guard; nothing was applied."]
        if approve is not None:
            lines = [f"The approval {approve!r} is not this plan's hash; nothing was applied."]
        lines += [f"  - {b.message}" for b in plan.breaches]
        lines.append(
            f"The plan is saved for review (misbridge store review {plan.hash}). If it is "
            f"right, approve exactly this plan: {approve_command(plan)}"
        )
        raise GuardRefused(
            "\n".join(lines), plan_hash=plan.hash, breaches=[b.as_dict() for b in plan.breaches]
        )

    def sync(
        self,
        result: ExtractResult,
        *,
        dry_run: bool = False,
        approve: str | None = None,
        max_disable_share: float = 0.10,
        today: date | None = None,
        policy: GuardPolicy | None = None,
        release_held: bool = False,
        school: str | None = None,
    ) -> SyncReport:
        """Plan and apply ``result``; with ``dry_run`` only plan (and judge the guard)."""
        clock = time.perf_counter()
        plan = self.plan(
            result,
            max_disable_share=max_disable_share,
            today=today,
            policy=policy,
            release_held=release_held,
            school=school,
        )
        return self.settle(plan, dry_run=dry_run, approve=approve, started=clock)

    def settle(
        self,
        plan: Plan,
        *,
        dry_run: bool = False,
        approve: str | None = None,
        started: float | None = None,
    ) -> SyncReport:
        """Apply ``plan`` (or, with ``dry_run``, only report the guard's verdict)."""
        clock = started if started is not None else time.perf_counter()
        if dry_run:
            approved = approve is not None and approve == plan.hash
            return SyncReport.from_plan(
                plan,
                applied=False,
                dry_run=True,
                refused=bool(plan.breaches) and not approved,
                seconds=time.perf_counter() - clock,
            )
        report = self.apply(plan, approve=approve)
        report.seconds = time.perf_counter() - clock
        return report

    # -- maintenance --------------------------------------------------------------------

    def schools(self) -> list[str]:
        """The schools this store holds, by name."""
        with self._transaction("list its schools") as conn:
            return _school_names(conn)

    def school_name(self, school: str | None = None) -> str:
        """``school`` checked, or (None) the store's only school: "default" for an empty
        store. :raises ConfigurationError: None, and the store holds several schools."""
        with self._transaction("list its schools") as conn:
            return resolve_school(conn, school)

    def switch_mis(self, school: str | None = None) -> int:
        """Forget every MIS id of ``school`` (it changed MIS); return how many were cleared.

        The next apply matches that school's records by natural key and writes the new
        MIS's ids. Other schools' ids are untouched.
        """
        with self._transaction("clear the MIS ids", write=True) as conn:
            name = resolve_school(conn, school)
            ids = schema.mis_id
            by_mis = _count_by_mis(conn, name)
            cleared = conn.execute(ids.delete().where(ids.c.school == name)).rowcount
            now = _now()
            self._bump(conn, name, now)
            detail = {"cleared": cleared, "by_mis": by_mis}
            self._audit(conn, "switch-mis", detail, now, name)
        log.info("store.switched_mis", school=name, cleared=cleared)
        return int(cleared)

    def purge(self, older_than_days: int, school: str | None = None) -> int:
        """Erase personal data of records disabled more than ``older_than_days`` ago (of
        ``school``, or of every school when None); return how many records were erased.
        An audit entry records it."""
        with self._transaction("purge", write=True) as conn:
            now = _now()
            names = [resolve_school(conn, school)] if school is not None else None
            detail = purge(conn, older_than_days, now, schools=names)
            for name, count in detail["by_school"].items():
                if count:
                    self._bump(conn, name, now)
            total = sum(detail["purged"].values())
            self._audit(conn, "purge", detail, now, school)
        log.info("store.purged", records=total, older_than_days=older_than_days, school=school)
        return int(total)

    @staticmethod
    def _bump(conn: sa.Connection, school: str, now: datetime) -> None:
        table = schema.school
        moved = conn.execute(
            table.update().where(table.c.name == school).values(revision=table.c.revision + 1)
        )
        if moved.rowcount == 0:
            conn.execute(
                table.insert().values(name=school, revision=1, created_at=now, legacy=False)
            )

    @staticmethod
    def _audit(
        conn: sa.Connection,
        action: str,
        detail: dict[str, Any],
        now: datetime,
        school: str | None = None,
    ) -> None:
        conn.execute(
            schema.audit.insert().values(at=now, school=school, action=action, detail=detail)
        )

    # -- reading ------------------------------------------------------------------------

    def status(
        self,
        school: str | None = None,
        *,
        policy: GuardPolicy | None = None,
        today: date | None = None,
    ) -> dict[str, Any]:
        """Counts, MIS ids, the last run and the plans waiting for review, of ``school``
        (None: the store's only school, or every school together when it holds several,
        with ``schools`` giving each one's counts); with one school, how much of each
        guard allowance its applied plans have used; and the checkpoints."""
        policy = policy or GuardPolicy()
        with self._transaction("read its status") as conn:
            store_id = conn.execute(sa.select(schema.store_state.c.store_id)).scalar_one()
            names = _school_names(conn)
            if school is not None or len(names) <= 1:
                name: str | None = resolve_school(conn, school)
            else:
                name = None
            data = _status_of(conn, name)
            if name is None:
                data["schools"] = {n: _status_of(conn, n)["records"] for n in names}
            schema_revision = current_revision(conn)
            guard = (
                _allowances(conn, policy, today or date.today(), name) if name is not None else None
            )
            marks = [
                {
                    "school": m.school,
                    "mis": m.mis,
                    "dataset": m.dataset,
                    "at": m.at.isoformat(),
                    "updated_at": m.updated_at.isoformat(),
                }
                for m in conn.execute(sa.select(schema.checkpoint).order_by("school", "mis"))
            ]
        return {
            "guard": guard,
            "checkpoints": marks,
            "store": self.url,
            "store_id": store_id,
            "schema_revision": schema_revision,
            "school": name,
            "all_schools": names,
            **data,
        }

    def saved_plan(self, plan_hash: str) -> dict[str, Any] | None:
        """A saved plan (refused or applied) by hash: its summary and, unless retention
        cleared it, its body."""
        import json

        table = schema.plan
        with self._transaction("read a saved plan") as conn:
            row = conn.execute(sa.select(table).where(table.c.hash == plan_hash)).first()
        if row is None:
            return None
        return {
            "hash": row.hash,
            "school": row.school,
            "created_at": row.created_at.isoformat(),
            "mis": row.mis,
            "status": row.status,
            "base_revision": row.base_revision,
            "summary": row.summary,
            "body": json.loads(row.body) if row.body is not None else None,
        }


def _allowances(
    conn: sa.Connection, policy: GuardPolicy, today: date, school: str
) -> dict[str, Any]:
    """Per kind with active records: tonight's limit, and the cumulative window's use."""
    from misbridge.store.guard import window_use

    state = load_state(conn, "", KINDS, school=school)
    kinds = {}
    for kind in KINDS:
        ks = state.kinds[kind.name]
        if not ks.active:
            continue
        use = window_use(state, kind.name, today.toordinal(), policy.cumulative_days)
        kinds[kind.name] = {
            "active": ks.active,
            "tonight_limit": int(ks.active * policy.max_disable_share),
            "window_disabled": use.net_disabled,
            "window_base": use.base,
            "window_share": round(use.share, 4),
            "window_limit": policy.window_share,
            "window_left": max(int(use.base * policy.window_share) - use.net_disabled, 0),
        }
    approval = state.last_approval
    return {
        "max_disable_share": policy.max_disable_share,
        "max_blank_share": policy.max_blank_share,
        "cumulative_share": policy.cumulative_share,
        "cumulative_days": policy.cumulative_days,
        "window_starts_after_plan": approval.plan_hash if approval else None,
        "kinds": kinds,
    }


_NAME_LIMIT = 64


def _school_names(conn: sa.Connection) -> list[str]:
    table = schema.school
    return [n for (n,) in conn.execute(sa.select(table.c.name).order_by(table.c.name))]


def resolve_school(conn: sa.Connection, school: str | None) -> str:
    """``school`` checked, or the store's only school (``default`` in an empty store)."""
    if school is not None:
        if not school.strip() or len(school) > _NAME_LIMIT or school != school.strip():
            raise ConfigurationError(
                f"a school's key must be 1 to {_NAME_LIMIT} characters without surrounding "
                f"spaces, not {school[:80]!r}"
            )
        return school
    names = _school_names(conn)
    if not names:
        return "default"
    if len(names) == 1:
        return names[0]
    raise ConfigurationError(
        f"this store holds several schools ({', '.join(names)}): say which one "
        "(--school NAME, or school= from Python)"
    )


def legacy_claim(conn: sa.Connection, school: str) -> str | None:
    """The legacy school a first run of ``school`` claims, if there is one to claim."""
    table = schema.school
    if conn.execute(sa.select(table.c.name).where(table.c.name == school)).first() is not None:
        return None
    legacy = conn.execute(
        sa.select(table.c.name).where(table.c.legacy.is_(True)).order_by(table.c.name)
    ).first()
    return str(legacy.name) if legacy is not None else None


def _status_of(conn: sa.Connection, school: str | None) -> dict[str, Any]:
    """The status of one school, or (None) of every school together."""

    def mine(table: sa.Table) -> Any:
        return table.c.school == school if school is not None else sa.true()

    records: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        t = kind.table
        counts = {"enabled": 0, "disabled": 0, "purged": 0}
        purged_col = sa.case((t.c.purged_at.is_(None), 0), else_=1).label("purged")
        query = sa.select(t.c.enabled, purged_col, sa.func.count()).where(mine(t))
        for enabled, purged, n in conn.execute(query.group_by(t.c.enabled, purged_col)):
            counts["purged" if purged else "enabled" if enabled else "disabled"] += n
        records[kind.name] = counts
    run = schema.run
    runs = conn.execute(sa.select(sa.func.count()).select_from(run).where(mine(run))).scalar_one()
    last = conn.execute(sa.select(run).where(mine(run)).order_by(run.c.id.desc()).limit(1)).first()
    plans, schools = schema.plan, schema.school
    waiting = conn.execute(
        sa.select(plans.c.hash, plans.c.created_at, plans.c.mis, plans.c.school)
        .join(schools, schools.c.name == plans.c.school)
        # A refused plan made against an older state can no longer be approved.
        .where(
            plans.c.status == "refused",
            plans.c.base_revision == schools.c.revision,
            mine(plans),
        )
        .order_by(plans.c.created_at.desc())
    ).all()
    revision = school_revision(conn, school) if school is not None else None
    return {
        "revision": revision,
        "records": records,
        "mis_ids": _count_by_mis(conn, school),
        "runs": runs,
        "last_run": _run_dict(last._mapping) if last is not None else None,
        "plans_awaiting_review": [
            {
                "hash": p.hash,
                "created_at": p.created_at.isoformat(),
                "mis": p.mis,
                "school": p.school,
            }
            for p in waiting
        ],
    }


def _count_by_mis(conn: sa.Connection, school: str | None) -> dict[str, int]:
    ids = schema.mis_id
    query = sa.select(ids.c.mis, sa.func.count()).group_by(ids.c.mis)
    if school is not None:
        query = query.where(ids.c.school == school)
    return {mis: int(n) for mis, n in conn.execute(query)}


def _run_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "school": row["school"],
        "mis": row["mis"],
        "status": row["status"],
        "started_at": row["started_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat(),
        "plan_hash": row["plan_hash"],
        "counts": row["counts"],
        "writes": row["writes"],
        "errors": row["errors"],
    }
