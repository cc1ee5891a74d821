"""misbridge plugin for Arbor (cloud MIS): REST + GraphQL, with a faithful simulator.

The hooks are thin: the client (``client``), the readers (``reader``), the mapping
(``mapping``), the extract (``extract``), the simulator (``simulator``) and the CLI
(``cli``) live in their own modules. See ``docs/plugins/arbor.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from misbridge import hookimpl
from misbridge.errors import PermissionDeniedError, PluginError
from misbridge.hooktypes import ExtractContext, MisInfo, MisSession
from misbridge.http import HttpPolicy
from misbridge.model import Dataset
from misbridge.source import (
    SourceAcademicYear,
    SourceDeletion,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)
from misbridge_arbor import extract
from misbridge_arbor.client import ArborClient
from misbridge_arbor.config import CREDENTIALS, HTTP_DEFAULTS, SETTINGS, ArborConfig
from misbridge_arbor.reader import Reader
from misbridge_arbor.simulator import simulator

if TYPE_CHECKING:
    import click

INFO = MisInfo(
    name="arbor",
    title="Arbor",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # Every dataset but assessments, which this plugin does not read (yet).
    datasets=tuple(d for d in Dataset if d is not Dataset.ASSESSMENTS),
    simulator=simulator,
    docs_url="docs/plugins/arbor.md",
    school_setting="subdomain",
)


def _session(session: MisSession) -> extract.ArborSession:
    if not isinstance(session, extract.ArborSession):
        raise PluginError("arbor: the session was not opened by the Arbor plugin", mis="arbor")
    return session


@hookimpl
def mis_info() -> MisInfo:
    return INFO


@hookimpl
def authenticate(context: ExtractContext) -> object:
    return _authenticate(context)


async def _authenticate(context: ExtractContext) -> MisSession:
    config = ArborConfig.from_context(context)
    client = ArborClient(
        config,
        context.credential("username"),
        context.credential("api_key"),
        transport=context.transport,
        policy=HttpPolicy.from_settings({**HTTP_DEFAULTS, **context.settings}),
    )
    try:
        # HTTP Basic has no token exchange: one small read proves the credentials
        # (and the application id) before any dataset starts. A 403 proves them too:
        # that dataset will say what it lacks, the others still run.
        probe = {"page-number": config.rest_first_page, "page-size": 1}
        await client.rest_get("/rest-v2/academic-years", probe)
    except PermissionDeniedError:
        pass
    except BaseException:
        await client.aclose()
        raise
    return extract.ArborSession(client, Reader(client))


@hookimpl
def check_permissions(session: MisSession, context: ExtractContext) -> object:
    return extract.check(_session(session), context)


@hookimpl
def extract_years(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup]:
    return extract.years(_session(session))


@hookimpl
def extract_staff(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceStaff | SourceDeletion]:
    return extract.staff(_session(session), context)


@hookimpl
def extract_students(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceStudent | SourceDeletion]:
    return extract.students(_session(session), datetime.now(UTC).date(), context)


@hookimpl
def extract_groups(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership]:
    return extract.groups(_session(session))


@hookimpl
def extract_photos(session: MisSession, context: ExtractContext) -> AsyncIterator[SourcePhoto]:
    return extract.photos(_session(session))


@hookimpl
def extract_exam_results(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceExamResult]:
    return extract.exam_results(_session(session))


@hookimpl
def register_commands(cli: click.Group) -> None:
    from misbridge_arbor.cli import arbor_group

    cli.add_command(arbor_group(INFO))
