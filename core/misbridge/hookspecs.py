"""The hook specifications: the contract between the core and every plugin.

Each docstring below is that contract (arguments, return, when it is called). The
reference in ``docs/hooks.md`` restates them with examples; a test fails if a hook is
missing there.

An MIS plugin implements :func:`mis_info`, :func:`authenticate` and the extract hooks.
When a run selects one MIS, the core calls only that MIS plugin's implementations
(through ``PluginManager.subset_hook_caller``), while *wrappers* from cross-cutting
plugins (auditing, field minimisation, metrics) still wrap every MIS.

Extract hooks are plain functions that return an asynchronous iterator, usually
``async def`` generators: they *yield source records* one by one, so that a dataset
streams and a whole trust never sits in memory. :class:`misbridge.plugin.MisPlugin`
gives an MIS plugin all of its hooks from one session class.

The hooks are versioned as the *plugin API*, :data:`API_VERSION` (``MAJOR.MINOR``).
A plugin states in ``MisInfo.api`` the version it was written for; the core refuses a
plugin of another major version, or of a newer minor one, and ``misbridge plugins``
says why. A minor version only adds (hooks, optional arguments, fields); a hook that is
to go is first marked with :func:`deprecated`, which makes every plugin implementing it
warn once (pluggy's ``warn_on_impl``), and is removed only in the next major version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from misbridge.errors import RecordError
    from misbridge.hooktypes import ExtractContext, MisInfo, MisSession, PermissionCheck
    from misbridge.source import (
        SourceAcademicYear,
        SourceAssessment,
        SourceDeletion,
        SourceExamResult,
        SourceGroup,
        SourceMembership,
        SourcePhoto,
        SourceStaff,
        SourceStudent,
        SourceYearGroup,
    )

PROJECT = "misbridge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The plugin API these hook specifications define (see the module docstring).
API_VERSION = "1.0"


class PluginApiDeprecationWarning(DeprecationWarning):
    """A plugin implements a hook that a later major version of the plugin API removes."""


def deprecated(since: str, instead: str) -> Any:
    """The marker of a hook spec that is to go: ``@deprecated("1.2", "use extract_x")``.

    Registering a plugin that implements the hook warns (once per plugin and process)
    with :class:`PluginApiDeprecationWarning`, naming the hook and ``instead``.
    """

    def mark(function: Any) -> Any:
        warning = PluginApiDeprecationWarning(
            f"the {function.__name__} hook is deprecated since plugin API {since} and goes "
            f"in the next major version; {instead}"
        )
        return hookspec(warn_on_impl=warning)(function)

    return mark


@hookspec
def mis_info() -> MisInfo:  # type: ignore[empty-body]
    """Describe the MIS this plugin serves.

    Called once when the plugin manager is built. Only MIS plugins implement it;
    cross-cutting plugins do not.

    :return: a :class:`~misbridge.hooktypes.MisInfo`: the MIS name (unique among
        installed plugins), its title, the credentials and settings it needs, the
        datasets it can extract and a factory for its simulator.
    """


@hookspec(firstresult=True)
def authenticate(context: ExtractContext) -> Awaitable[MisSession] | None:
    """Open an authenticated session with the MIS.

    Called once per extract, before any extract hook, with the run's settings and
    credentials (as :class:`~misbridge.hooktypes.Secret` values: call ``reveal()``
    only where the value is put on the wire).

    :param context: the run's settings, credentials, ``since`` and test transport.
    :return: an awaitable giving a :class:`~misbridge.hooktypes.MisSession`; the core
        awaits it and always calls its ``aclose()`` when the extract ends.
    :raises misbridge.AuthenticationError: the MIS refused the credentials (the
        message says which account and what to do, never the secret).
    :raises misbridge.SourceUnavailableError: the MIS could not be reached.
    """


@hookspec(firstresult=True)
def check_permissions(
    session: MisSession, context: ExtractContext
) -> Awaitable[Sequence[PermissionCheck]] | None:
    """Pre-flight: say, per dataset, which permissions the account lacks. Optional.

    Called by ``misbridge <mis> check`` and before an extract when the run asks for it.
    It must not extract personal data beyond what is needed to probe access.

    :return: an awaitable giving one :class:`~misbridge.hooktypes.PermissionCheck` per
        dataset, naming every missing permission as the MIS administrator sees it,
        including those a dataset needs through another dataset.
    """


@hookspec(firstresult=True)
def extract_years(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup | SourceDeletion] | None:
    """Yield the school's academic years and year groups.

    Called once per extract of the ``years`` dataset, concurrently with the other
    extract hooks of the same session.

    :return: an asynchronous iterator of :class:`~misbridge.source.SourceAcademicYear`
        and :class:`~misbridge.source.SourceYearGroup` records, raw as the MIS gives them.
    :raises misbridge.SourceError: the dataset could not be read; the core marks the
        dataset failed and the other datasets still complete.

    Every extract hook also reports on ``context.read(dataset)`` what proves the read
    whole (a vendor total it matched, or one closed document), whether it read only
    changes (a delta, since ``context.checkpoint(dataset)`` or ``context.since``), and
    the checkpoint the next read may start from (:mod:`misbridge.reads`). A read with no
    such report is ``unverified``: nothing absent from it is disabled. In a delta, yield
    a :class:`~misbridge.source.SourceDeletion` for each record the vendor names as
    deleted: those are the only records a delta disables.
    """


@hookspec(firstresult=True)
def extract_staff(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceStaff | SourceDeletion] | None:
    """Yield the school's staff as :class:`~misbridge.source.SourceStaff` records.

    Same calling rules as :func:`extract_years`. Emails are all of them, with their type
    and Primary/Main flags; the normaliser picks the primary work email.
    """


@hookspec(firstresult=True)
def extract_students(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceStudent | SourceDeletion] | None:
    """Yield the school's students as :class:`~misbridge.source.SourceStudent` records.

    Same calling rules as :func:`extract_years`. Include leavers the MIS still returns
    (with their leaving date): the store decides what to disable. Contact details are
    *all* addresses, telephones and emails with type, flags and start dates; never
    choose one here: the selection rules live in the shared normaliser.
    """


@hookspec(firstresult=True)
def extract_groups(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership | SourceDeletion] | None:
    """Yield classes, registration groups and houses, and every membership.

    Same calling rules as :func:`extract_years`. Memberships carry student and staff
    links with their start and end dates; memberships of year groups use
    ``GroupKind.YEAR`` and the year group's MIS id.
    """


@hookspec(firstresult=True)
def extract_photos(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourcePhoto] | None:
    """Yield student and staff photos. Optional: return None if the MIS has none.

    Same calling rules as :func:`extract_years`; only called when the run asks for photos.
    """


@hookspec(firstresult=True)
def extract_exam_results(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceExamResult] | None:
    """Yield GCSE and GCE actual results. Optional: return None if not supported.

    Same calling rules as :func:`extract_years`; only called when the run asks for them.
    """


@hookspec(firstresult=True)
def extract_assessments(
    session: MisSession, context: ExtractContext
) -> AsyncIterator[SourceAssessment] | None:
    """Yield termly assessment grades (marksheet values). Optional: return None if the
    MIS plugin cannot read them.

    Same calling rules as :func:`extract_years`; only called when the run asks for them.
    One :class:`~misbridge.source.SourceAssessment` per pupil and aspect (column) that
    holds a value: an empty cell is no grade and yields nothing. ``student_mis_id`` is
    the pupil's MIS id as the students dataset gives it (join on admission number or
    UPN in the plugin if the marksheet names pupils that way, and fail the dataset
    loudly for rows that match no pupil). The grade type and term are passed raw.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``misbridge`` command line.

    Called once when the CLI starts. An MIS plugin adds its driver group
    (``misbridge wonde ...``); :func:`misbridge.cli_kit.mis_command_group` builds the
    standard ``check`` and ``extract`` commands so that every MIS behaves alike.

    :param cli: the root ``click.Group``.
    """


@hookspec
def report_errors(errors: Sequence[RecordError], summary: dict[str, object]) -> None:
    """Receive a finished run's record errors, to send them somewhere else.

    Called once per run after the extract (and the sync, if any), by every plugin that
    implements it. ``summary`` is the run's ``summary.json`` content. Implementations
    must not raise for delivery problems they can retry later; they log them instead.
    """
