"""misbridge plugin for spreadsheets: the CSV and XLSX report exports any MIS can make.

For a school whose MIS has no API misbridge reads (Ed:Gen, a SIMS without
CommandReporter access), and for what no MIS API gives, such as termly assessment
marksheets. A column mapping (TOML) per export layout says which column fills which
field; see ``docs/plugins/spreadsheet.md``. Files are read with the same caps as hostile
XML: sizes, rows, columns and cells are bounded, XLSX zip bombs are refused before
anything inflates, formulas are never evaluated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from misbridge import hookimpl
from misbridge.hooktypes import ExtractContext, FieldCoverage, MisInfo, PermissionCheck
from misbridge.model import Dataset
from misbridge.source import SourceRecord
from misbridge_spreadsheet.config import CREDENTIALS, SETTINGS
from misbridge_spreadsheet.coverage import lacks_of_settings

if TYPE_CHECKING:
    import click

    from misbridge.source import (
        SourceAcademicYear,
        SourceAssessment,
        SourceGroup,
        SourceMembership,
        SourceStaff,
        SourceStudent,
        SourceYearGroup,
    )
    from misbridge_spreadsheet.session import SpreadsheetSession
    from misbridge_spreadsheet.simulator import SpreadsheetSimulator

__all__ = ["INFO", "simulator"]

DATASETS = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.ASSESSMENTS)


def simulator(school: Any, **options: Any) -> SpreadsheetSimulator:
    """The spreadsheet simulator factory (see :mod:`misbridge_spreadsheet.simulator`)."""
    from misbridge_spreadsheet.simulator import simulator as factory

    return factory(school, **options)


INFO = MisInfo(
    name="spreadsheet",
    title="Spreadsheet exports (CSV, XLSX)",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    datasets=DATASETS,
    simulator=simulator,
    docs_url="docs/plugins/spreadsheet.md",
    # What the chosen mapping has no column for: a sync keeps the stored value.
    coverage=FieldCoverage(derive=lacks_of_settings),
)


@hookimpl
def mis_info() -> MisInfo:
    return INFO


async def _open(context: ExtractContext) -> SpreadsheetSession:
    from misbridge_spreadsheet.session import SpreadsheetSession

    return SpreadsheetSession.open(context)


@hookimpl
def authenticate(context: ExtractContext) -> Awaitable[SpreadsheetSession]:
    return _open(context)


def _ours(session: object) -> TypeGuard[SpreadsheetSession]:
    from misbridge_spreadsheet.session import SpreadsheetSession

    return isinstance(session, SpreadsheetSession)


def _dataset(
    session: object, context: ExtractContext, dataset: Dataset
) -> AsyncIterator[SourceRecord] | None:
    if not _ours(session) or not session.mapping.sheets_for(dataset):
        return None  # another MIS's session, or a mapping without this dataset
    return session.records(dataset, context)


@hookimpl
def check_permissions(session: object, context: ExtractContext) -> object:
    if not _ours(session):
        return None

    async def run() -> Sequence[PermissionCheck]:
        return session.check(INFO.datasets)

    return run()


@hookimpl
def extract_years(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup] | None:
    return _dataset(session, context, Dataset.YEARS)  # type: ignore[return-value]


@hookimpl
def extract_staff(session: object, context: ExtractContext) -> AsyncIterator[SourceStaff] | None:
    return _dataset(session, context, Dataset.STAFF)  # type: ignore[return-value]


@hookimpl
def extract_students(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceStudent] | None:
    return _dataset(session, context, Dataset.STUDENTS)  # type: ignore[return-value]


@hookimpl
def extract_groups(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership] | None:
    return _dataset(session, context, Dataset.GROUPS)  # type: ignore[return-value]


@hookimpl
def extract_assessments(
    session: object, context: ExtractContext
) -> AsyncIterator[SourceAssessment] | None:
    return _dataset(session, context, Dataset.ASSESSMENTS)  # type: ignore[return-value]


@hookimpl
def register_commands(cli: click.Group) -> None:
    from misbridge_spreadsheet.cli import spreadsheet_group

    cli.add_command(spreadsheet_group(INFO))
