"""The SIMS session: run (or read) each report, parse it as it streams, merge it.

``SimsSession`` is what ``authenticate`` returns. Each report goes
bytes -> :class:`~misbridge_sims.xmlstream.ReportParser` (records) ->
:class:`~misbridge_sims.merge.Merger` (entities) -> :mod:`misbridge_sims.mapping`
(source records), one chunk at a time, so memory holds one entity, not a report.
Along the way it checks what SIMS does silently: ID columns suppressed for accounts
outside "Third Party Reporter", and whole permission areas left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from contextvars import ContextVar
from pathlib import Path

import structlog
from attrs import define, field

from misbridge.plugin import (
    AuthenticationError,
    Dataset,
    ExtractContext,
    PermissionCheck,
    PermissionDeniedError,
    Session,
    SourceError,
    SourceFormatError,
    SourcePhoto,
    SourceRecord,
)
from misbridge_sims.encoding import DECLARED, ReportDecoder
from misbridge_sims.errors import classify, ids_suppressed, import_hint
from misbridge_sims.mapping import map_entity
from misbridge_sims.merge import Entity, Merger
from misbridge_sims.process import ExitError, ProcessRunner, read_file
from misbridge_sims.reports import DATASET_REPORTS, ReportDef, report_by_key, reports_for
from misbridge_sims.settings import ReporterConfig
from misbridge_sims.xmlstream import ERROR_ROOT, FILE_ENCODING_HINT, ReportParser

__all__ = ["INFER_MIN_RECORDS", "REPORT_PROGRESS", "ReportStats", "SimsSession"]

log = structlog.get_logger()

#: A permission area is taken as withheld when none of its columns appears in this
#: many records or more: on a real roll every pupil has a name, a year, an ethnicity
#: (NOBT and REFU are answers), flags and contact details.
INFER_MIN_RECORDS = 20
_KEEP_AT_MOST = 1000

STDOUT_ENCODING_HINT = (
    "set the 'console_encoding' setting to the code page CommandReporter writes in (run "
    "chcp on the SIMS server: 'Active code page: 850' means cp850), or use --output file, "
    "which reads the encoding the file declares"
)

ReportCallback = Callable[[str, str, int], None]

#: Set by the CLI to show progress per report: called with (report, "start"|"done", records).
REPORT_PROGRESS: ContextVar[ReportCallback | None] = ContextVar("REPORT_PROGRESS", default=None)


@define
class ReportStats:
    """What one report run showed, for the permissions pre-flight and progress."""

    report: str
    records: int = 0
    entities: int = 0
    columns: set[str] = field(factory=set)

    def withheld(self, report: ReportDef) -> dict[str, tuple[str, ...]]:
        """Permission lines none of whose columns appeared in any record."""
        if self.records < INFER_MIN_RECORDS:
            return {}
        return {
            permission: captions
            for permission, captions in report.permission_columns(inferable=True).items()
            if not self.columns.intersection(captions)
        }


class SimsSession(Session):
    """An open SIMS connection: settings checked, processes tracked, always closed."""

    def __init__(self, config: ReporterConfig, on_report: ReportCallback | None = None) -> None:
        self.config = config
        self.runner = ProcessRunner(config)
        self.on_report = on_report or REPORT_PROGRESS.get()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._kept: dict[str, list[dict[str, str]]] = {}

    async def login(self) -> None:
        """Check the credentials: CommandReporter has no separate login, so run the
        smallest report (academic years: no personal data) and keep its few records
        for the years dataset, so the run is not wasted. Only a refused login raises."""
        report = report_by_key("academic_years")
        rows: list[dict[str, str]] = []
        stats = ReportStats(self.report_name(report))
        try:
            async with aclosing(self.records(report, stats)) as stream:
                async for record in stream:
                    stats.records += 1
                    rows.append(record)
        except AuthenticationError:
            raise
        except SourceError:
            return  # the login worked; the years dataset (or check) reports the rest
        if len(rows) <= _KEEP_AT_MOST:
            self._kept[report.key] = rows

    def report_name(self, report: ReportDef) -> str:
        return report.name(self.config.prefix)

    async def aclose(self) -> None:
        await self.runner.aclose()

    # -- the Session API: what the hooks call ------------------------------------------------
    @classmethod
    async def open(cls, context: ExtractContext) -> SimsSession:
        config = ReporterConfig.from_context(context)
        config.check_reporter()
        session = cls(config)
        if config.from_xml is not None:
            return session
        try:
            await session.login()
        except BaseException:
            await session.aclose()
            raise
        return session

    async def check(self, context: ExtractContext) -> Sequence[PermissionCheck]:
        from misbridge_sims.permissions import check

        return await check(self, tuple(DATASET_REPORTS))

    def years(self, context: ExtractContext) -> AsyncIterator[SourceRecord]:
        return self._dataset(context, Dataset.YEARS)

    def staff(self, context: ExtractContext) -> AsyncIterator[SourceRecord]:
        return self._dataset(context, Dataset.STAFF)

    def students(self, context: ExtractContext) -> AsyncIterator[SourceRecord]:
        return self._dataset(context, Dataset.STUDENTS)

    def groups(self, context: ExtractContext) -> AsyncIterator[SourceRecord]:
        return self._dataset(context, Dataset.GROUPS)

    def exam_results(self, context: ExtractContext) -> AsyncIterator[SourceRecord]:
        return self._dataset(context, Dataset.EXAM_RESULTS)

    async def photos(self, context: ExtractContext) -> AsyncIterator[SourcePhoto]:
        from misbridge_sims.photos import photos

        read = 0
        async with aclosing(photos(self)) as stream:
            async for photo in stream:
                read += 1
                yield photo
        # The photo reports, each one answer read to its end (or the photo folder, listed
        # once): nothing can have been dropped between pages.
        context.read(Dataset.PHOTOS).whole_document("photos", read=read)

    async def _dataset(
        self, context: ExtractContext, dataset: Dataset
    ) -> AsyncGenerator[SourceRecord, None]:
        for report in reports_for(dataset):
            read = 0
            async with aclosing(self.source_records(report)) as stream:
                async for record in stream:
                    read += 1
                    yield record
            # One CommandReporter answer per report, parsed to its closing root element
            # after the process exited 0: nothing can have been dropped between pages.
            context.read(dataset).whole_document(self.report_name(report), read=read)

    # -- bytes -------------------------------------------------------------------------------
    async def _chunks(self, report: ReportDef, name: str) -> AsyncGenerator[bytes, None]:
        if self.config.from_xml is not None:
            path = self.config.from_xml / f"{name}.xml"
            if not path.is_file():
                raise _missing_file(name, path)
            async with aclosing(read_file(path, name, self.config.max_bytes)) as stream:
                async for chunk in stream:
                    yield chunk
            return
        async with aclosing(self.runner.run(name, report.key)) as stream:
            async for chunk in stream:
                yield chunk

    def _parser(self, report: ReportDef, name: str) -> ReportParser:
        c = self.config
        if c.from_xml is None and c.output == "stdout":
            decoder = ReportDecoder(
                name, c.console_encoding, console=c.console_code_page, hint=STDOUT_ENCODING_HINT
            )
        else:
            decoder = ReportDecoder(name, DECLARED, hint=FILE_ENCODING_HINT)
        # A picture column holds base64 (4 characters per 3 bytes) with line breaks.
        photo_chars = c.photos.max_bytes * 4 // 3 + c.photos.max_bytes // 32 + 1024
        caps = dict.fromkeys(report.binary_captions(), photo_chars)
        return ReportParser(name, max_bytes=c.max_bytes, value_caps=caps, decoder=decoder)

    # -- records -----------------------------------------------------------------------------
    async def records(
        self, report: ReportDef, stats: ReportStats
    ) -> AsyncGenerator[dict[str, str], None]:
        """The report's ``<Record>`` rows as dicts keyed by decoded caption."""
        self._progress(stats, "start")
        try:
            async with aclosing(self._records(report, stats.report)) as stream:
                async for record in stream:
                    yield record
        except Exception:
            self._progress(stats, "failed")
            raise
        self._progress(stats, "done")

    def _progress(self, stats: ReportStats, event: str) -> None:
        if self.on_report is not None:
            self.on_report(stats.report, event, stats.records)

    async def _records(self, report: ReportDef, name: str) -> AsyncGenerator[dict[str, str], None]:
        kept = self._kept.pop(report.key, None)
        if kept is not None:
            for record in kept:
                yield record
            return
        parser = self._parser(report, name)
        async with self._slots:
            chunks = self._chunks(report, name)
            try:
                async for chunk in chunks:
                    for record in parser.feed(chunk):
                        yield record
                for record in parser.close():
                    yield record
            except ExitError as exc:
                raise self._failed(
                    report, name, parser.error_text or exc.stderr, exc.code
                ) from None
            finally:
                await chunks.aclose()
        if parser.root == ERROR_ROOT:
            raise self._failed(report, name, parser.error_text, None)

    def _failed(
        self, report: ReportDef, name: str, text: str | None, code: int | None
    ) -> SourceError:
        return classify(
            name,
            text,
            exit_code=code,
            requires=report.requires,
            secrets=self.runner.secrets(),
        )

    # -- entities ----------------------------------------------------------------------------
    async def entities(
        self, report: ReportDef, stats: ReportStats | None = None
    ) -> AsyncGenerator[Entity, None]:
        """Merged entities of one report; raises when SIMS withheld IDs or whole areas."""
        stats = stats or ReportStats(self.report_name(report))
        merger = Merger(report, stats.report)
        key = report.key_caption
        ids = report.id_captions()
        async with aclosing(self.records(report, stats)) as stream:
            async for record in stream:
                stats.records += 1
                stats.columns.update(record)
                if not record.get(key):
                    if not any(record.get(c) for c in ids):
                        raise ids_suppressed(stats.report, ids, stats.records)
                    raise SourceFormatError(
                        f"{stats.report}: record {stats.records} has no '{key}'",
                        report=stats.report,
                    )
                done = merger.push(record)
                if done is not None:
                    stats.entities += 1
                    yield done
        last = merger.close()
        if last is not None:
            stats.entities += 1
            yield last
        withheld = stats.withheld(report)
        if withheld:
            raise _withheld(stats, withheld)
        log.info(
            "sims.report.read", report=stats.report, records=stats.records, entities=stats.entities
        )

    async def source_records(self, report: ReportDef) -> AsyncGenerator[SourceRecord, None]:
        name = self.report_name(report)
        async with aclosing(self.entities(report, ReportStats(name))) as stream:
            async for entity in stream:
                for record in map_entity(report.key, entity, name):
                    yield record


def _missing_file(name: str, path: Path) -> SourceError:
    from misbridge_sims.errors import ReportNotFoundError

    return ReportNotFoundError(
        f"no exported report '{name}' at {str(path)!r}: export it there with "
        f'CommandReporter /REPORT:"{name}" /OUTPUT:"{path.name}", or '
        f"{import_hint(name)} first",
        name,
    )


def _withheld(stats: ReportStats, withheld: dict[str, tuple[str, ...]]) -> PermissionDeniedError:
    areas = "; ".join(f"{p} (columns {', '.join(c)})" for p, c in withheld.items())
    return PermissionDeniedError(
        f"SIMS left out whole permission areas of report '{stats.report}': no one of "
        f"{stats.records} records has any of their columns, so the account most likely lacks "
        f"{areas}; grant them in System Manager (inferred from the empty columns)",
        missing=tuple(withheld),
        report=stats.report,
    )
