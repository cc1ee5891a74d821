"""misbridge plugin for Wonde, the aggregator API in front of SIMS, Arbor, iSAMS and more.

A thin pluggy module: the wire format is in :mod:`misbridge_wonde.mapping`, the HTTP
session in :mod:`misbridge_wonde.client`, paging in :mod:`misbridge_wonde.paging`, the
datasets in :mod:`misbridge_wonde.extract`, the simulator in
:mod:`misbridge_wonde.simulator` and the command line in :mod:`misbridge_wonde.cli`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from misbridge import hookimpl
from misbridge.errors import PluginError
from misbridge.hooktypes import (
    ExtractContext,
    FieldCoverage,
    MisInfo,
    MisSession,
    PermissionCheck,
)
from misbridge.model import Dataset
from misbridge_wonde import extract, permissions
from misbridge_wonde.client import WondeSession, open_session
from misbridge_wonde.settings import CREDENTIALS, SETTINGS
from misbridge_wonde.simulator import simulate

if TYPE_CHECKING:
    import click

__all__ = ["INFO"]

INFO = MisInfo(
    name="wonde",
    title="Wonde",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # No exam results: Wonde's assessment API is a beta whose result shape no public
    # source documents (mis-apis.md 1.2); see docs/plugins/wonde.md.
    datasets=(Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.PHOTOS),
    simulator=simulate,
    docs_url="docs/plugins/wonde.md",
    coverage=FieldCoverage(
        frozenset(
            {
                # No academic-year endpoint among Wonde's lists.
                "AcademicYear",
                # Year groups are groups (name, code, type, description, notes, division).
                "YearGroup.start",
                "YearGroup.end",
                # No per-membership dates on the groups and classes includes.
                "Membership.start",
                "Membership.end",
                # One email per type plus the Primary one; the Main flag is not sent.
                "Student.email_preference",
                # extended_details.sen_status: the current code only, no dates or history.
                "Student.sen.dates",
                "Student.sen.history",
            }
        )
    ),
    school_setting="school_id",
)


def _session(session: MisSession) -> WondeSession:
    if not isinstance(session, WondeSession):
        raise PluginError(f"wonde: expected a Wonde session, got {type(session).__name__}")
    return session


def _stream(
    dataset: Dataset, read: Callable[[WondeSession], AsyncIterator[Any]], session: MisSession
) -> AsyncIterator[Any]:
    wonde = _session(session)
    return wonde.tracked(dataset, read(wonde))


@hookimpl
def mis_info() -> MisInfo:
    return INFO


@hookimpl
def authenticate(context: ExtractContext) -> Awaitable[MisSession]:
    return open_session(context)


@hookimpl
def check_permissions(
    session: MisSession, context: ExtractContext
) -> Awaitable[Sequence[PermissionCheck]]:
    return permissions.check(_session(session), INFO.datasets)


@hookimpl
def extract_years(session: MisSession, context: ExtractContext) -> AsyncIterator[Any]:
    return _stream(Dataset.YEARS, extract.years, session)


@hookimpl
def extract_staff(session: MisSession, context: ExtractContext) -> AsyncIterator[Any]:
    return _stream(Dataset.STAFF, extract.staff, session)


@hookimpl
def extract_students(session: MisSession, context: ExtractContext) -> AsyncIterator[Any]:
    return _stream(Dataset.STUDENTS, extract.students, session)


@hookimpl
def extract_groups(session: MisSession, context: ExtractContext) -> AsyncIterator[Any]:
    return _stream(Dataset.GROUPS, extract.groups, session)


@hookimpl
def extract_photos(session: MisSession, context: ExtractContext) -> AsyncIterator[Any]:
    return _stream(Dataset.PHOTOS, extract.photos, session)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from misbridge_wonde.cli import wonde_group

    cli.add_command(wonde_group(INFO))
