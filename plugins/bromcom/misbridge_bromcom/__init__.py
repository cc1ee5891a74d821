"""misbridge plugin for Bromcom: the Partner Data API 2.0, or the legacy SOAP service.

Thin on purpose: the wire vocabulary is in :mod:`.schema`, the two clients in
:mod:`.partner` and :mod:`.soap`, the mapping in :mod:`.mapping`, what each dataset
reads in :mod:`.extract`, the simulator in :mod:`.simulator` and the CLI in :mod:`.cli`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from misbridge import hookimpl
from misbridge.hooktypes import ExtractContext, FieldCoverage, MisInfo, MisSession, PermissionCheck
from misbridge.model import Dataset
from misbridge_bromcom import extract
from misbridge_bromcom.config import CREDENTIALS, SETTINGS
from misbridge_bromcom.session import BromcomSession, open_session
from misbridge_bromcom.simulator import simulate

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

__all__ = ["INFO"]

#: StudentFlatView has no address or telephone of the pupil (contact1..3 are the parents'),
#: one studentEmail without its type or Primary/Main flags, and the SEN provision in force
#: without its dates or earlier provisions; the legacy service's person entities have them.
FLAT_VIEW_LACKS = frozenset(
    {
        "Student.home_address",
        "Student.home_telephone",
        "Student.mobile_telephone",
        "Student.work_email",
        "Student.email_preference",
        "Student.sen.dates",
        "Student.sen.history",
    }
)

INFO = MisInfo(
    name="bromcom",
    title="Bromcom",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # Every dataset but assessments, which this plugin does not read (yet).
    datasets=tuple(d for d in Dataset if d is not Dataset.ASSESSMENTS),
    simulator=simulate,
    docs_url="docs/plugins/bromcom.md",
    coverage=FieldCoverage(
        # Collections have a name and a description, no separate short code.
        frozenset({"Group.code"}),
        when=(
            ("mode", "partner", FLAT_VIEW_LACKS),
            ("legacy_contacts", "no", FLAT_VIEW_LACKS),
        ),
    ),
    school_setting="school_id",
)


def _session(session: MisSession) -> BromcomSession:
    if not isinstance(session, BromcomSession):
        raise TypeError("the Bromcom hooks need the session Bromcom's authenticate made")
    return session


@hookimpl
def mis_info() -> MisInfo:
    return INFO


@hookimpl
async def authenticate(context: ExtractContext) -> BromcomSession:
    return await open_session(context)


@hookimpl
async def check_permissions(
    session: MisSession, context: ExtractContext
) -> Sequence[PermissionCheck]:
    return await _session(session).check()


@hookimpl
def extract_years(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup]:
    return extract.years(_session(session), context)


@hookimpl
def extract_staff(session: MisSession, context: ExtractContext) -> AsyncIterator[SourceStaff]:
    return extract.staff(_session(session), context)


@hookimpl
def extract_students(session: MisSession, context: ExtractContext) -> AsyncIterator[SourceStudent]:
    return extract.students(_session(session), context)


@hookimpl
def extract_groups(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership]:
    return extract.groups(_session(session), context)


@hookimpl
def extract_photos(session: MisSession, context: ExtractContext) -> AsyncIterator[SourcePhoto]:
    return extract.photos(_session(session), context)


@hookimpl
def extract_exam_results(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceExamResult]:
    return extract.exam_results(_session(session), context)


@hookimpl
def register_commands(cli: click.Group) -> None:
    from misbridge_bromcom.cli import command_group

    cli.add_command(command_group(INFO))
