"""A trust on one machine: every school of ``misbridge.toml`` in one run, at once.

Each school is one :func:`misbridge.run` under its own lock. They run concurrently on
one asyncio loop per process, at most ``[run] concurrency`` schools at once and at most
``per_host`` against one MIS host (so that one vendor, or this machine's SIMS, is never
asked for more than a few schools together); with ``processes`` above one, a dispatcher
hands schools to worker processes forked once, after the imports, so start-up is paid
once per process, never once per school. One school failing (its MIS down, a setting
wrong, its lock held, even its process dying) never stops the others: it is reported,
and the run's exit code is the worst school's.

A store that still holds what a one-school store held before schools existed (r0004's
``default``) is claimed by the first school of the configuration that uses it: that
school runs first, alone on that store, and no other school may claim it.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from attrs import define, field

from misbridge.errors import MisbridgeError, RunLocked
from misbridge.jobs.config import Config, RunSettings, SchoolConfig
from misbridge.jobs.result import EXIT_FAILED, EXIT_LOCKED, RunResult

__all__ = [
    "SchoolOutcome",
    "TrustResult",
    "host_of",
    "run_trust",
    "run_trust_async",
    "worst_exit_code",
]

log = structlog.get_logger()

#: Worse exit codes later: a trust's code is its worst school's (docs/cli.md).
_SEVERITY = {0: 0, 3: 1, 4: 2, 5: 3, 1: 4}
STATUSES = ("complete", "unverified", "partial", "refused", "locked", "failed")


def worst_exit_code(codes: Iterable[int]) -> int:
    worst = 0
    for code in codes:
        if _SEVERITY.get(code, 4) > _SEVERITY.get(worst, 4):
            worst = code
    return worst


@define
class SchoolOutcome:
    """What one school's run came to, for the trust summary (counts and words only)."""

    school: str
    mis: str
    host: str
    status: str  # complete, unverified, partial, refused, locked or failed
    exit_code: int
    seconds: float
    errors: int = 0
    warnings: int = 0
    message: str | None = None  # why it failed, or the guard's last line
    report: str | None = None  # the school's report.html, when it has an out folder
    started_at: datetime | None = None  # when it was let start (within the bounds)
    result: RunResult | None = field(default=None, repr=False, eq=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "mis": self.mis,
            "host": self.host,
            "status": self.status,
            "exit_code": self.exit_code,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "seconds": round(self.seconds, 2),
            "errors": self.errors,
            "warnings": self.warnings,
            "message": self.message,
            "report": self.report,
        }


@define
class TrustResult:
    """Every school's outcome, in the configuration's order."""

    outcomes: list[SchoolOutcome]
    started: datetime
    finished: datetime
    processes: int = 1

    @property
    def exit_code(self) -> int:
        return worst_exit_code(o.exit_code for o in self.outcomes)

    def by_status(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {s: [] for s in STATUSES}
        for outcome in self.outcomes:
            found.setdefault(outcome.status, []).append(outcome.school)
        return found

    def summary(self) -> dict[str, Any]:
        """``trust-summary.json``: which schools are complete, unverified, partial,
        refused by the guard, locked or failed; no personal data."""
        return {
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds"),
            "seconds": round((self.finished - self.started).total_seconds(), 2),
            "processes": self.processes,
            "exit_code": self.exit_code,
            "counts": {k: len(v) for k, v in self.by_status().items()},
            "schools_by_status": self.by_status(),
            "schools": [o.as_dict() for o in self.outcomes],
        }


def host_of(school: SchoolConfig, plugins: Any) -> str:
    """The MIS host a school's run talks to: the host of its first URL setting (with the
    plugin's defaults), else the MIS name (an on-site MIS: this machine)."""
    from urllib.parse import urlsplit

    try:
        info = plugins.info(school.mis)
        defaults = {f.name: f.default for f in info.settings if f.default}
    except MisbridgeError:
        return school.mis
    merged = {**defaults, **{k: str(v) for k, v in school.settings.items()}}
    for name in sorted(merged):
        value = merged[name]
        if name.endswith("url") and value.startswith(("http://", "https://")):
            parts = urlsplit(value)
            if parts.hostname:
                port = f":{parts.port}" if parts.port else ""
                return f"{parts.hostname}{port}"
    return school.mis


def _outcome(
    school: SchoolConfig,
    host: str,
    started: float,
    result: RunResult | None,
    exc: BaseException | None,
) -> SchoolOutcome:
    seconds = time.monotonic() - started
    if result is not None:
        summary = result.summary()
        message = result.refusal.splitlines()[-1] if result.refusal else None
        failed = [o.message for o in result.outcomes.values() if o.message and not o.trusted]
        if message is None and result.status in ("failed", "partial") and failed:
            message = "; ".join(m for m in failed if m)[:500]
        report = result.out / "report.html" if result.out is not None else None
        return SchoolOutcome(
            school.name,
            school.mis,
            host,
            result.status,
            result.exit_code,
            seconds,
            errors=int(summary["errors"]),
            warnings=int(summary["warnings"]),
            message=message,
            report=str(report) if report is not None and report.exists() else None,
            result=result,
        )
    if isinstance(exc, RunLocked):
        return SchoolOutcome(
            school.name, school.mis, host, "locked", EXIT_LOCKED, seconds, message=exc.message
        )
    if isinstance(exc, MisbridgeError):
        text = exc.message
    else:  # a bug: its type and where, never its message (it could hold anything)
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc is not None else None
        text = f"internal error ({type(exc).__name__}"
        text += f" in {Path(where.filename).name}:{where.lineno})" if where else ")"
        text += "; see the log"
    return SchoolOutcome(
        school.name, school.mis, host, "failed", EXIT_FAILED, seconds, message=text
    )


async def _run_one(
    school: SchoolConfig, host: str, plugins: Any, claim: bool, options: dict[str, Any]
) -> SchoolOutcome:
    from misbridge.jobs.run import run_async

    started, at = time.monotonic(), datetime.now(UTC)
    try:
        result = await run_async(school, pm=plugins, claim=claim, **options)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("trust.school_failed", school=school.name, error=type(exc).__name__)
        outcome = _outcome(school, host, started, None, exc)
    else:
        outcome = _outcome(school, host, started, result, None)
    outcome.started_at = at
    return outcome


def _claimants(schools: Sequence[SchoolConfig]) -> tuple[set[str], list[str]]:
    """Which school of each store may claim its legacy school (the first to use that
    store), and those of them whose store holds one to claim (they run first)."""
    firsts: dict[str, str] = {}
    for school in schools:
        if school.store:
            firsts.setdefault(school.store, school.name)
    first_names = set(firsts.values())
    shared = {url for url in firsts if sum(1 for s in schools if s.store == url) > 1}
    early: list[str] = []
    for url in sorted(shared):
        try:
            if _has_legacy(url):
                early.append(firsts[url])
        except MisbridgeError:
            continue  # the school's own run reports a store it cannot open
    return first_names, early


def _has_legacy(url: str) -> bool:
    import sqlalchemy as sa

    from misbridge.store import open_store, schema

    with open_store(url) as store, store._engine.connect() as conn:
        table = schema.school
        return (
            conn.execute(sa.select(table.c.name).where(table.c.legacy.is_(True))).first()
            is not None
        )


class _Bounds:
    """At most ``total`` schools at once, and ``per_host`` per host."""

    def __init__(self, settings: RunSettings) -> None:
        self.total = asyncio.Semaphore(settings.concurrency)
        self.per_host = settings.per_host
        self.hosts: dict[str, asyncio.Semaphore] = {}

    def host(self, name: str) -> asyncio.Semaphore:
        found = self.hosts.get(name)
        if found is None:
            found = self.hosts[name] = asyncio.Semaphore(self.per_host)
        return found


async def run_trust_async(
    config: Config,
    *,
    schools: Sequence[SchoolConfig] | None = None,
    pm: Any = None,
    on_done: Callable[[SchoolOutcome], None] | None = None,
    **options: Any,
) -> TrustResult:
    """Run ``schools`` (default: every school of ``config``) in this process, bounded
    by ``config.run``. ``options`` go to every :func:`misbridge.run` (``since``,
    ``dry_run``, ``release_held``)."""
    from misbridge.plugins import get_plugin_manager

    plugins = pm or get_plugin_manager()
    chosen = list(schools if schools is not None else config.schools)
    started = datetime.now(UTC)
    may_claim, early = _claimants(chosen)
    bounds = _Bounds(config.run)
    hosts = {s.name: host_of(s, plugins) for s in chosen}
    outcomes: dict[str, SchoolOutcome] = {}

    async def one(school: SchoolConfig) -> None:
        host = hosts[school.name]
        async with bounds.total, bounds.host(host):
            outcome = await _run_one(school, host, plugins, school.name in may_claim, dict(options))
        outcomes[school.name] = outcome
        if on_done is not None:
            on_done(outcome)

    first = [s for s in chosen if s.name in early]
    for school in first:
        await one(school)
    async with asyncio.TaskGroup() as group:
        for school in chosen:
            if school.name not in early:
                group.create_task(one(school))
    return TrustResult([outcomes[s.name] for s in chosen], started, datetime.now(UTC), processes=1)


def processes_for(settings: RunSettings, schools: int) -> int:
    wanted = settings.processes or (os.cpu_count() or 1)
    return max(1, min(wanted, schools, settings.concurrency))


def run_trust(
    config: Config,
    *,
    schools: Sequence[SchoolConfig] | None = None,
    pm: Any = None,
    on_done: Callable[[SchoolOutcome], None] | None = None,
    processes: int | None = None,
    **options: Any,
) -> TrustResult:
    """Blocking form of :func:`run_trust_async`, over ``processes`` worker processes
    (default from ``[run] processes``: one per core)."""
    chosen = list(schools if schools is not None else config.schools)
    count = processes if processes is not None else processes_for(config.run, len(chosen))
    if count <= 1 or len(chosen) <= 1:
        return asyncio.run(
            run_trust_async(config, schools=chosen, pm=pm, on_done=on_done, **options)
        )
    from misbridge.jobs.dispatch import run_in_processes

    return run_in_processes(config, chosen, count, pm=pm, on_done=on_done, options=options)
