"""The store: ``open_store(url)`` and the operations the CLI and the demo call."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
import structlog

from misbridge.errors import GuardRefused, StoreError
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
from misbridge.store.state import load_checkpoints, load_state

__all__ = ["Store", "open_store"]

log = structlog.get_logger()


def _now() -> datetime:
    # Stored as naive UTC: SQLite keeps no time zone, and one rule serves both backends.
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan is computed.

    Planning allocates tens of thousands of small objects that form no cycles, and each
    allocation burst sets off collections that re-scan every live record of the
    extract: about a third of an unchanged night's planning time. Reference counting
    still frees everything; the collector's previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    ) -> PlanBuilder:
        """A plan builder over the store's current state, for records streamed in while
        the extract runs (:meth:`finish_plan` makes the plan). Only the light snapshot is
        read here, in its own transaction; nothing is held open during the extract."""
        wanted = set(Dataset) if datasets is None else set(datasets)
        kinds = [k for k in KINDS if k.identified or k.dataset in wanted]
        with _collector_paused(), self._transaction("read its roster") as conn:
            state = load_state(conn, mis, kinds)
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
        with _collector_paused(), self._transaction("read its roster") as conn:
            revision = conn.execute(sa.select(schema.store_state.c.revision)).scalar_one()
            if revision != builder.state.revision:
                raise StoreError(
                    f"the store changed while this extract ran (revision "
                    f"{builder.state.revision}, now {revision}): another sync was applied "
                    "meanwhile; nothing was planned, run the extract again"
                )
            builder.state.attach(conn)
            return builder.finish(
                outcomes=result.outcomes,
                errors=result.errors,
                deletions=result.deletions,
                policy=policy,
                release_held=release_held,
                school=result.school or "default",
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
    ) -> Plan:
        """Compare ``result`` (its records in memory) with the store: what applying it
        would change, and the guard's verdict. Writes nothing."""
        policy = policy or GuardPolicy(max_disable_share=check_share(max_disable_share))
        present = set(result.outcomes) | set(result.records) | set(result.deletions)
        builder = self.planner(result.mis, lacks=result.lacks, today=today, datasets=present)
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
        with self._transaction("apply the plan", write=True) as conn:
            now = _now()
            writes = apply_plan(conn, plan, now)
            if not plan.empty:
                save_plan(conn, plan, "applied", now)
            if approved and plan.breaches:
                self._audit(conn, "approve", {"plan": plan.hash, "mis": plan.mis}, now)
            record_ledger(conn, plan, approved=approved and bool(plan.breaches), now=now)
            save_checkpoints(conn, plan, now)
            run_id = record_run(
                conn, plan, status="applied", started=started, finished=_now(), writes=writes
            )
        log.info("store.applied", mis=plan.mis, plan=plan.hash, writes=writes, run=run_id)
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
            check_base(conn, plan, claim=False)
            now = _now()
            save_plan(conn, plan, "refused", now)
            record_run(conn, plan, status="refused", started=started, finished=now, writes=0)
        log.warning("store.refused", mis=plan.mis, plan=plan.hash, breaches=len(plan.breaches))
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
    ) -> SyncReport:
        """Plan and apply ``result``; with ``dry_run`` only plan (and judge the guard)."""
        clock = time.perf_counter()
        plan = self.plan(
            result,
            max_disable_share=max_disable_share,
            today=today,
            policy=policy,
            release_held=release_held,
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

    def switch_mis(self) -> int:
        """Forget every MIS id (the school changed MIS); return how many were cleared.

        The next apply matches records by natural key and writes the new MIS's ids.
        """
        with self._transaction("clear the MIS ids", write=True) as conn:
            ids = schema.mis_id
            by_mis = _count_by_mis(conn)
            cleared = conn.execute(ids.delete()).rowcount
            self._bump(conn)
            self._audit(conn, "switch-mis", {"cleared": cleared, "by_mis": by_mis}, _now())
        log.info("store.switched_mis", cleared=cleared)
        return int(cleared)

    def purge(self, older_than_days: int) -> int:
        """Erase personal data of records disabled more than ``older_than_days`` ago;
        return how many records were erased. An audit entry records it."""
        with self._transaction("purge", write=True) as conn:
            now = _now()
            detail = purge(conn, older_than_days, now)
            total = sum(detail["purged"].values())
            if total:
                self._bump(conn)
            self._audit(conn, "purge", detail, now)
        log.info("store.purged", records=total, older_than_days=older_than_days)
        return int(total)

    @staticmethod
    def _bump(conn: sa.Connection) -> None:
        table = schema.store_state
        conn.execute(table.update().values(revision=table.c.revision + 1))

    @staticmethod
    def _audit(conn: sa.Connection, action: str, detail: dict[str, Any], now: datetime) -> None:
        conn.execute(schema.audit.insert().values(at=now, action=action, detail=detail))

    # -- reading ------------------------------------------------------------------------

    def status(
        self, *, policy: GuardPolicy | None = None, today: date | None = None
    ) -> dict[str, Any]:
        """Counts, MIS ids, the last run, the plans waiting for review, how much of each
        guard allowance the applied plans have used, and the checkpoints."""
        policy = policy or GuardPolicy()
        with self._transaction("read its status") as conn:
            state = conn.execute(sa.select(schema.store_state)).one()
            records: dict[str, dict[str, int]] = {}
            for kind in KINDS:
                t = kind.table
                counts = {"enabled": 0, "disabled": 0, "purged": 0}
                purged_col = sa.case((t.c.purged_at.is_(None), 0), else_=1).label("purged")
                query = sa.select(t.c.enabled, purged_col, sa.func.count())
                for enabled, purged, n in conn.execute(query.group_by(t.c.enabled, purged_col)):
                    counts["purged" if purged else "enabled" if enabled else "disabled"] += n
                records[kind.name] = counts
            mis_ids = _count_by_mis(conn)
            run = schema.run
            runs = conn.execute(sa.select(sa.func.count()).select_from(run)).scalar_one()
            last = conn.execute(sa.select(run).order_by(run.c.id.desc()).limit(1)).first()
            plans = schema.plan
            waiting = conn.execute(
                sa.select(plans.c.hash, plans.c.created_at, plans.c.mis)
                # A refused plan made against an older state can no longer be approved.
                .where(plans.c.status == "refused", plans.c.base_revision == state.revision)
                .order_by(plans.c.created_at.desc())
            ).all()
            schema_revision = current_revision(conn)
            guard = _allowances(conn, policy, today or date.today())
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
            "store_id": state.store_id,
            "schema_revision": schema_revision,
            "revision": state.revision,
            "records": records,
            "mis_ids": mis_ids,
            "runs": runs,
            "last_run": _run_dict(last._mapping) if last is not None else None,
            "plans_awaiting_review": [
                {"hash": p.hash, "created_at": p.created_at.isoformat(), "mis": p.mis}
                for p in waiting
            ],
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
            "created_at": row.created_at.isoformat(),
            "mis": row.mis,
            "status": row.status,
            "base_revision": row.base_revision,
            "summary": row.summary,
            "body": json.loads(row.body) if row.body is not None else None,
        }


def _allowances(conn: sa.Connection, policy: GuardPolicy, today: date) -> dict[str, Any]:
    """Per kind with active records: tonight's limit, and the cumulative window's use."""
    from misbridge.store.guard import window_use

    state = load_state(conn, "", KINDS)
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


def _count_by_mis(conn: sa.Connection) -> dict[str, int]:
    ids = schema.mis_id
    query = sa.select(ids.c.mis, sa.func.count()).group_by(ids.c.mis)
    return {mis: int(n) for mis, n in conn.execute(query)}


def _run_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "mis": row["mis"],
        "status": row["status"],
        "started_at": row["started_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat(),
        "plan_hash": row["plan_hash"],
        "counts": row["counts"],
        "writes": row["writes"],
        "errors": row["errors"],
    }
