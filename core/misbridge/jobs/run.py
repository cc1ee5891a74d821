"""``misbridge.run``: one school, one MIS, from settings to a finished run.

The one sequence every caller uses (the command line, ``demo``, the agent's Integrator,
workers, a library caller)::

    lock -> check the output folder and the store -> authenticate -> extract, streaming
    every record into the extract files and the store's plan -> plan -> apply (or refuse)
    with the checkpoints -> summary.json, errors.jsonl/.csv, report.html -> report_errors

Records are never collected: they stream into the JSON Lines files and into the plan
builder, which keeps only what differs from the store, so a large school needs no more
memory than a small one beyond the store's own working set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from misbridge.errors import ConfigurationError, GuardRefused, RecordError
from misbridge.hooktypes import MisInfo, Secret
from misbridge.jobs.checkpoints import FileCheckpoints
from misbridge.jobs.config import SchoolConfig
from misbridge.jobs.lock import run_lock
from misbridge.jobs.places import remember_places
from misbridge.jobs.result import RunResult
from misbridge.model import Dataset, Deletion
from misbridge.pipeline import DEFAULT_DATASETS, extract_async, prepare_context
from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.result import ModelRecord
from misbridge.store.report import SyncReport

__all__ = ["run", "run_async"]

log = structlog.get_logger()

ProgressCallback = Callable[[Dataset, int], None]


class _Tee:
    """Hands every accepted record to each sink (the extract files, the plan builder)."""

    def __init__(self, sinks: Iterable[Any]) -> None:
        self.sinks = [s for s in sinks if s is not None]

    def write(self, dataset: Dataset, record: ModelRecord | Deletion) -> None:
        for sink in self.sinks:
            sink.write(dataset, record)


class _Planning:
    def __init__(self, builder: Any) -> None:
        self.add = builder.add

    def write(self, dataset: Dataset, record: ModelRecord | Deletion) -> None:
        self.add(dataset, record)


def _check_out(out: Path) -> Path:
    """The output folder, created owner-only and proven writable before anything runs."""
    try:
        if out.exists() and not out.is_dir():
            raise ConfigurationError(
                f"the output folder {out} is a file, not a folder; choose another --out"
            )
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = out / ".misbridge-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except ConfigurationError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"cannot write the extract to {out}: {reason}; choose a folder this user may "
            "write to (--out, or out in misbridge.toml)"
        ) from None
    return out


def _datasets(info: MisInfo, school: SchoolConfig) -> tuple[Dataset, ...]:
    if school.datasets is not None:
        offered = [d for d in school.datasets if d in info.datasets]
        return tuple(offered)
    return tuple(d for d in DEFAULT_DATASETS if d in info.datasets)


def _credentials(
    info: MisInfo, school: SchoolConfig, given: Mapping[str, str | Secret] | None
) -> Mapping[str, str | Secret]:
    if given is not None:
        return given
    from misbridge.credentials import resolve_credentials

    return resolve_credentials(info, school.name, prompt=False)


async def run_async(
    school: SchoolConfig | str,
    *,
    credentials: Mapping[str, str | Secret] | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    approve: str | None = None,
    release_held: bool = False,
    transport: object | None = None,
    pm: Plugins | None = None,
    on_record: ProgressCallback | None = None,
    on_total: ProgressCallback | None = None,
    lock_folder: Path | None = None,
    claim: bool = True,
    **options: Any,
) -> RunResult:
    """Run one school (see the module docstring).

    :param school: the school's configuration, or an MIS name with ``settings=``,
        ``store=``, ``out=``... as keyword arguments (a :class:`SchoolConfig`'s fields).
    :param credentials: the MIS credentials; default: the vault, then the environment.
    :param since: read only changes since then (timezone-aware), where the MIS can.
    :param dry_run: plan and judge the guard, apply nothing.
    :param approve: the hash of a refused plan to apply (the guard's own message says).
    :param release_held: disable the records absent from an unverified read too.
    :param claim: a school new to a one-school store from before r0004 takes over what it
        held (its first named run); a trust run lets only its first school of a store claim.
    :raises RunLocked: another run of this school is under way.
    :raises ConfigurationError: a setting, the output folder or the store URL is wrong.
    :raises StoreError: the store cannot be opened (the reason is given).
    :raises AuthenticationError: the MIS refused the credentials; nothing was read.
    """
    if isinstance(school, str):
        name = options.pop("name", None)
        settings = options.get("settings") or {}
        if name is None:
            plugins_ = pm or get_plugin_manager()
            name = plugins_.info(school).school_key({k: str(v) for k, v in settings.items()})
            pm = plugins_
        school = SchoolConfig(name=name, mis=school, **options)
    elif options:
        raise TypeError(f"unexpected arguments with a SchoolConfig: {sorted(options)}")
    plugins = pm or get_plugin_manager()
    with run_lock(school.name, lock_folder):
        return await _run(
            school,
            plugins,
            credentials=credentials,
            since=since,
            dry_run=dry_run,
            approve=approve,
            release_held=release_held,
            transport=transport,
            on_record=on_record,
            on_total=on_total,
            claim=claim,
        )


async def _run(
    school: SchoolConfig,
    plugins: Plugins,
    *,
    credentials: Mapping[str, str | Secret] | None,
    since: datetime | None,
    dry_run: bool,
    approve: str | None,
    release_held: bool,
    transport: object | None,
    on_record: ProgressCallback | None,
    on_total: ProgressCallback | None,
    claim: bool = True,
) -> RunResult:
    from misbridge.output import JsonlSink, write_extract_files

    info = plugins.info(school.mis)
    where = f"in {school.origin}" if school.origin else ""
    context = prepare_context(
        info,
        settings=school.settings,
        since=since,
        transport=transport,
        on_total=on_total,
        where=where,
    )
    out = _check_out(school.out) if school.out is not None else None
    # Store work blocks (SQL, the apply's transaction): it runs on a thread, so that the
    # other schools of a trust run go on reading meanwhile.
    store = await asyncio.to_thread(_open_store, school.store) if school.store else None
    remember_places(school.store, out)
    try:
        wanted = _datasets(info, school)
        lacks = info.lacking(context.settings)
        if store is not None:
            checkpoints = await asyncio.to_thread(store.checkpoints, info.name, school.name)
            builder = await asyncio.to_thread(
                store.planner,
                info.name,
                lacks=lacks,
                datasets=wanted,
                school=school.name,
                claim=claim,
            )
        else:
            checkpoints = FileCheckpoints(info.name, school.name).load()
            builder = None
        context = prepare_context(
            info,
            settings=school.settings,
            credentials=_credentials(info, school, credentials),
            since=since,
            transport=transport,
            checkpoints=checkpoints,
            on_total=on_total,
            where=where,
        )
        files = JsonlSink(out) if out is not None else None
        sink = _Tee([files, _Planning(builder) if builder is not None else None])
        try:
            extract = await extract_async(
                info.name,
                context=context,
                datasets=wanted,
                profile=school.profile,
                normalise_settings=school.normalise,
                sink=sink,
                collect=False,
                on_record=on_record,
                pm=plugins,
                school=school.name,
            )
        finally:
            written = files.close() if files is not None else []
        result = RunResult(school.name, info.name, extract, out=out, files=list(written))
        result.errors = list(extract.errors)
        if store is not None and builder is not None:
            await asyncio.to_thread(
                _sync, store, builder, result, school, dry_run, approve, release_held
            )
    finally:
        if store is not None:
            store.close()
    if out is not None:
        result.files += write_extract_files(
            extract, out, errors=result.errors, summary=result.summary()
        )
    if store is None and not dry_run:
        FileCheckpoints(info.name, school.name).save(extract.checkpoints)
    plugins.pm.hook.report_errors(errors=list(result.errors), summary=result.summary())
    log.info(
        "run.finished",
        school=school.name,
        mis=info.name,
        status=result.status,
        errors=len(result.errors),
    )
    return result


def _open_store(url: str) -> Any:
    from misbridge.store import open_store

    return open_store(url)


def _sync(
    store: Any,
    builder: Any,
    result: RunResult,
    school: SchoolConfig,
    dry_run: bool,
    approve: str | None,
    release_held: bool,
) -> None:
    plan = store.finish_plan(
        builder, result.extract, policy=school.guard, release_held=release_held
    )
    plan.folder = str(result.out) if result.out is not None else None
    try:
        report: SyncReport = store.settle(plan, dry_run=dry_run, approve=approve)
    except GuardRefused as refused:
        report = SyncReport.from_plan(plan, applied=False, refused=True)
        result.refusal = refused.message
    result.sync = report
    processing: list[RecordError] = list(report.errors)
    result.errors.extend(processing)


def run(school: SchoolConfig | str, **kwargs: Any) -> RunResult:
    """Blocking form of :func:`run_async` (same arguments)."""
    return asyncio.run(run_async(school, **kwargs))
