"""misbridge plugin for SIMS 7 (on-premises): CommandReporter reports, parsed safely.

SIMS has no web API on-premises: this plugin runs CommandReporter.exe (or reads the
reports it exported) for each dataset's report and parses the ``SuperStarReport`` XML
as it streams from CommandReporter's standard output. Photos come from the photo
reports' picture column or from a folder of exported photos. See
``docs/plugins/sims.md`` for the reports a SIMS administrator imports.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeGuard

from misbridge import hookimpl
from misbridge.hooktypes import ExtractContext, MisInfo, PermissionCheck
from misbridge.model import Dataset
from misbridge.source import SourceRecord
from misbridge_sims.config import CREDENTIALS, SETTINGS, ReporterConfig
from misbridge_sims.reports import DATASET_REPORTS, reports_for

if TYPE_CHECKING:
    import click

    from misbridge.source import (
        SourceAcademicYear,
        SourceExamResult,
        SourceGroup,
        SourceMembership,
        SourcePhoto,
        SourceStaff,
        SourceStudent,
        SourceYearGroup,
    )
    from misbridge_sims.session import SimsSession
    from misbridge_sims.simulator import SimsSimulator

__all__ = ["INFO", "simulator"]


def simulator(school: Any, **options: Any) -> SimsSimulator:
    """The SIMS simulator factory (see :mod:`misbridge_sims.simulator`)."""
    # Imported here so that the stand-in, which starts as a fresh process for every
    # report, does not pay for the session and simulator imports.
    from misbridge_sims.simulator import simulator as factory

    return factory(school, **options)


INFO = MisInfo(
    name="sims",
    title="SIMS 7 (on-premises, CommandReporter)",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    datasets=tuple(DATASET_REPORTS),
    simulator=simulator,
    docs_url="docs/plugins/sims.md",
    school_setting="database",
)


@hookimpl
def mis_info() -> MisInfo:
    return INFO


async def _open(context: ExtractContext) -> SimsSession:
    from misbridge_sims.session import SimsSession

    config = ReporterConfig.from_context(context)
    config.check_reporter()
    session = SimsSession(config)
    if config.from_xml is not None:
        return session
    try:
        await session.login()
    except BaseException:
        await session.aclose()
        raise
    return session


@hookimpl
def authenticate(context: ExtractContext) -> Awaitable[SimsSession]:
    return _open(context)


async def _dataset(
    session: SimsSession, context: ExtractContext, dataset: Dataset
) -> AsyncGenerator[SourceRecord, None]:
    for report in reports_for(dataset):
        read = 0
        async with aclosing(session.source_records(report)) as stream:
            async for record in stream:
                read += 1
                yield record
        # One CommandReporter answer per report, parsed to its closing root element after
        # the process exited 0: nothing can have been dropped between pages.
        context.read(dataset).whole_document(session.report_name(report), read=read)


def _ours(session: object) -> TypeGuard[SimsSession]:
    from misbridge_sims.session import SimsSession

    return isinstance(session, SimsSession)


@hookimpl
def check_permissions(session: object, context: ExtractContext) -> object:
    if not _ours(session):
        return None
    from misbridge_sims.permissions import check

    async def run() -> Sequence[PermissionCheck]:
        return await check(session, INFO.datasets)

    return run()


@hookimpl
def extract_years(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup] | None:
    if not _ours(session):
        return None
    return _dataset(session, context, Dataset.YEARS)  # type: ignore[return-value]


@hookimpl
def extract_staff(session: object, context: ExtractContext) -> AsyncIterator[SourceStaff] | None:
    if not _ours(session):
        return None
    return _dataset(session, context, Dataset.STAFF)  # type: ignore[return-value]


@hookimpl
def extract_students(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceStudent] | None:
    if not _ours(session):
        return None
    return _dataset(session, context, Dataset.STUDENTS)  # type: ignore[return-value]


@hookimpl
def extract_groups(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership] | None:
    if not _ours(session):
        return None
    return _dataset(session, context, Dataset.GROUPS)  # type: ignore[return-value]


@hookimpl
def extract_photos(session: object, context: ExtractContext) -> AsyncIterator[SourcePhoto] | None:
    if not _ours(session):
        return None
    return _photos(session, context)


async def _photos(session: SimsSession, context: ExtractContext) -> AsyncIterator[SourcePhoto]:
    from misbridge_sims.photos import photos

    read = 0
    async with aclosing(photos(session)) as stream:
        async for photo in stream:
            read += 1
            yield photo
    # The photo reports, each one answer read to its end (or the photo folder, listed
    # once): nothing can have been dropped between pages.
    context.read(Dataset.PHOTOS).whole_document("photos", read=read)


@hookimpl
def extract_exam_results(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceExamResult] | None:
    if not _ours(session):
        return None
    return _dataset(session, context, Dataset.EXAM_RESULTS)  # type: ignore[return-value]


@hookimpl
def register_commands(cli: click.Group) -> None:
    from misbridge_sims.cli import sims_group

    cli.add_command(sims_group(INFO))
