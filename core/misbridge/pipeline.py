"""The extract pipeline: authenticate, stream every dataset, normalise, validate, sink.

This is the library's main entry point::

    import misbridge
    result = misbridge.extract("wonde", settings={"school_id": "A1"},
                               credentials={"token": "..."})
    result.outcomes, result.errors, result.of(misbridge.Dataset.STUDENTS)

Datasets run concurrently, each as its own task: one failing dataset is reported as
failed (or partial, if it stopped part-way) and the others still complete. Records
stream through normalisation and validation one at a time into a sink and, unless
``collect=False``, into the result; a record with an error-severity
:class:`~misbridge.errors.RecordError` is reported and not passed on.

A dataset read to its end is ``complete`` only when the plugin proved it whole (a vendor
total matched), ``unverified`` when nothing could check it, ``partial`` when it was
shorter than the vendor's total (:mod:`misbridge.reads`). Whether it was a delta comes
from what the plugin reports, never from whether ``since`` was passed.

To run the whole job (extract, sync, reports) use :func:`misbridge.run`; this module is
the extract step alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Protocol

import structlog

from misbridge.errors import MisbridgeError, PermissionDeniedError, Severity
from misbridge.gcpause import GcPause
from misbridge.hooktypes import ExtractContext, MisInfo, MisSession, Secret
from misbridge.model import Dataset, Deletion
from misbridge.normalise import Normaliser, NormaliseSettings
from misbridge.plugins import MisHooks, Plugins, get_plugin_manager
from misbridge.reads import Checkpoint, aware_utc, settle
from misbridge.result import DatasetOutcome, ExtractResult, ModelRecord, OutcomeStatus
from misbridge.settings import parse_settings
from misbridge.validate import BatchChecker, Validator

__all__ = ["DEFAULT_DATASETS", "RecordSink", "extract", "extract_async", "prepare_context"]

log = structlog.get_logger()

#: What an extract reads unless asked otherwise: photos and exam results are opt-in.
DEFAULT_DATASETS = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS)

ProgressCallback = Callable[[Dataset, int], None]


class RecordSink(Protocol):
    """Where accepted records go as they stream (JSON Lines files, a store's planner).

    :class:`~misbridge.model.Deletion` values (records the vendor named as deleted) go
    through ``write`` too."""

    def write(self, dataset: Dataset, record: ModelRecord | Deletion) -> None: ...


def _as_secrets(credentials: Mapping[str, str | Secret] | None) -> dict[str, Secret]:
    return {
        name: value if isinstance(value, Secret) else Secret(value)
        for name, value in (credentials or {}).items()
    }


def _datasets(asked: Iterable[Dataset | str] | None) -> tuple[Dataset, ...]:
    if asked is None:
        return DEFAULT_DATASETS
    return tuple(dict.fromkeys(Dataset(d) for d in asked))


class _Run:
    """One extract's shared state: the result being built and the per-record steps."""

    def __init__(
        self,
        mis: str,
        normaliser: Normaliser,
        validator: Validator,
        sink: RecordSink | None,
        collect: bool,
        on_record: ProgressCallback | None,
    ) -> None:
        self.result = ExtractResult(mis=mis, started=datetime.now(UTC))
        self.normaliser = normaliser
        self.validator = validator
        self.sink = sink
        self.collect = collect
        self.on_record = on_record
        self.batch = BatchChecker(validator)
        self.gc = GcPause()
        # Bound once: accept() runs for every record of the school.
        self._normalise = normaliser.normalise
        self._validate = validator.validate
        self._check = self.batch.add
        self._errors = self.result.errors
        self._kept: dict[Dataset, list[ModelRecord]] = {}

    def accept(self, dataset: Dataset, source: object) -> bool:
        """Normalise and validate one source record; True when it was passed on."""
        model, errors = self._normalise(dataset, source)  # type: ignore[arg-type]
        if model is None:
            self._errors.extend(errors)
            return False
        if type(model) is Deletion:
            self._errors.extend(errors)
            self.result.deletions.setdefault(dataset, []).append(model)
            if self.sink is not None:
                self.sink.write(dataset, model)
            return True
        # Most records have no problem at all: lists are joined only when one has.
        invalid = self._validate(dataset, model)  # type: ignore[arg-type]
        repeated = self._check(dataset, model)  # type: ignore[arg-type]
        if invalid or repeated:
            errors = [*errors, *invalid, *repeated]
        if errors:
            self._errors.extend(errors)
            if any(e.severity is Severity.ERROR for e in errors):
                return False
        if self.sink is not None:
            self.sink.write(dataset, model)
        if self.collect:
            kept = self._kept.get(dataset)
            if kept is None:  # the dataset's list appears with its first record
                kept = self._kept[dataset] = self.result.records.setdefault(dataset, [])
            kept.append(model)  # type: ignore[arg-type]
        return True

    async def run_dataset(
        self,
        hooks: MisHooks,
        dataset: Dataset,
        session: MisSession,
        context: ExtractContext,
        title: str,
    ) -> None:
        accepted = rejected = seen = 0
        status, message = OutcomeStatus.COMPLETE, None
        try:
            stream = hooks.extract(dataset, session, context)
            if stream is None:
                status = OutcomeStatus.UNSUPPORTED
                message = f"{self.result.mis} does not offer the {dataset.value} dataset"
            else:
                tick = self.gc.tick
                async for record in stream:
                    seen += 1
                    tick()
                    if self.accept(dataset, record):
                        accepted += 1
                    else:
                        rejected += 1
                    if self.on_record is not None:
                        self.on_record(dataset, seen)
                status, message = _settled(context, dataset, title)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            status = OutcomeStatus.PARTIAL if seen else OutcomeStatus.FAILED
            message = _describe(exc)
            log.warning(
                "dataset.failed",
                mis=self.result.mis,
                dataset=dataset.value,
                status=status.value,
                records=seen,
                error=type(exc).__name__,
            )
        report = context.read(dataset)
        self.result.errors.extend(report.problems)
        if report.notes:
            message = "; ".join([*([message] if message else []), *report.notes])
        deletions = len(self.result.deletions.get(dataset, ()))
        self.result.outcomes[dataset] = DatasetOutcome(
            dataset,
            status,
            accepted - deletions,
            rejected,
            message,
            delta=report.is_delta,
            deletions=deletions,
        )
        if status.read_to_end and report.next_checkpoint is not None:
            self.result.checkpoints[dataset] = report.next_checkpoint


def _settled(
    context: ExtractContext, dataset: Dataset, title: str
) -> tuple[OutcomeStatus, str | None]:
    status, message = settle(context.read(dataset), title)
    return OutcomeStatus(status), message


def _describe(exc: Exception) -> str:
    if isinstance(exc, PermissionDeniedError) and exc.missing:
        return f"{exc.message} (missing: {', '.join(exc.missing)})"
    if isinstance(exc, MisbridgeError):
        return exc.message
    # A plugin bug: name the type, not the message, which could hold anything.
    return f"internal error in the plugin ({type(exc).__name__}); see the log"


def prepare_context(
    info: MisInfo,
    *,
    settings: Mapping[str, object] | None = None,
    credentials: Mapping[str, str | Secret] | None = None,
    since: datetime | None = None,
    transport: object | None = None,
    checkpoints: Mapping[Dataset, Checkpoint] | None = None,
    on_total: ProgressCallback | None = None,
    where: str = "",
) -> ExtractContext:
    """The context a plugin's hooks receive: settings parsed and checked against the
    plugin's declarations, ``since`` in UTC (a naive time is refused)."""
    parsed = parse_settings(info.name, info.settings, settings or {}, where=where)
    return ExtractContext(
        mis=info.name,
        settings=dict(parsed.text),
        values=dict(parsed.values),
        credentials=_as_secrets(credentials),
        since=aware_utc(since) if since is not None else None,
        transport=transport,  # type: ignore[arg-type]
        on_total=on_total,
        checkpoints=dict(checkpoints or {}),
    )


async def extract_async(
    mis: str,
    *,
    settings: Mapping[str, object] | None = None,
    credentials: Mapping[str, str | Secret] | None = None,
    datasets: Iterable[Dataset | str] | None = None,
    since: datetime | None = None,
    profile: str = "roster",
    normalise_settings: NormaliseSettings | None = None,
    transport: object | None = None,
    concurrent_datasets: bool = True,
    sink: RecordSink | None = None,
    collect: bool = True,
    on_record: ProgressCallback | None = None,
    on_total: ProgressCallback | None = None,
    pm: Plugins | None = None,
    checkpoints: Mapping[Dataset, Checkpoint] | None = None,
    school: str | None = None,
    context: ExtractContext | None = None,
) -> ExtractResult:
    """Extract, normalise and validate one school from one MIS.

    :param mis: the MIS name (``misbridge plugins`` lists them).
    :param settings: the MIS plugin's settings (base URL, school id, ...), checked
        against what the plugin declares: an unknown name is refused.
    :param credentials: its credentials; plain strings are wrapped in :class:`Secret`.
    :param datasets: which datasets to read (default :data:`DEFAULT_DATASETS`).
    :param since: only changes since then (timezone-aware), where the MIS supports it.
    :param profile: the validation profile (``"roster"`` or ``"account-sync"``).
    :param transport: an ``httpx`` transport, only for simulators and tests.
    :param concurrent_datasets: run datasets at once (default) or one after another.
    :param sink: receives every accepted record as it streams.
    :param collect: keep accepted records in the result (turn off for large trusts).
    :param checkpoints: where each dataset's last used read ended, for incremental reads
        (:func:`misbridge.run` keeps them; a plain extract starts from none).
    :param school: the school's key (default: the plugin's school setting).
    :raises AuthenticationError: the MIS refused the credentials; nothing was read.
    :raises UnknownMisError: no installed plugin serves ``mis``.
    :raises ConfigurationError: a setting is unknown or wrong, or ``since`` is naive.
    """
    plugins = pm or get_plugin_manager()
    info = plugins.info(mis)
    hooks = plugins.for_mis(mis)
    if context is None:
        context = prepare_context(
            info,
            settings=settings,
            credentials=credentials,
            since=since,
            transport=transport,
            checkpoints=checkpoints,
            on_total=on_total,
        )
    run = _Run(
        mis,
        Normaliser(normalise_settings or NormaliseSettings(), mis=mis, mis_title=info.title),
        Validator(profile, mis=mis, mis_title=info.title),
        sink,
        collect,
        on_record,
    )
    run.result.school = school or info.school_key(context.settings)
    run.result.lacks = info.lacking(context.settings)
    wanted = _datasets(datasets)
    log.info("extract.start", mis=mis, datasets=[d.value for d in wanted])
    # The collector waits until the school is read (misbridge.gcpause says why).
    with run.gc:
        session = await hooks.authenticate(context)
        try:
            if concurrent_datasets:
                async with asyncio.TaskGroup() as group:
                    for dataset in wanted:
                        group.create_task(
                            run.run_dataset(hooks, dataset, session, context, info.title)
                        )
            else:
                for dataset in wanted:
                    await run.run_dataset(hooks, dataset, session, context, info.title)
        finally:
            await session.aclose()
    run.result.outcomes = {d: run.result.outcomes[d] for d in wanted}
    run.result.finished = datetime.now(UTC)
    log.info(
        "extract.finished",
        mis=mis,
        ok=run.result.ok,
        errors=len(run.result.errors),
        outcomes={d.value: o.status.value for d, o in run.result.outcomes.items()},
    )
    return run.result


def extract(mis: str, **kwargs: object) -> ExtractResult:
    """Blocking form of :func:`extract_async` (same arguments)."""
    return asyncio.run(extract_async(mis, **kwargs))  # type: ignore[arg-type]
