"""An MIS plugin's hook implementations, made from one session class.

An MIS plugin writes a :class:`Session` subclass (open, one method per dataset, an
optional permission check, close) and hands it to :class:`MisPlugin` with its
:class:`~misbridge.hooktypes.MisInfo`; the entry point names the ``MisPlugin`` object::

    class AcmeSession(Session):
        @classmethod
        async def open(cls, context: ExtractContext) -> AcmeSession: ...
        def students(self, context: ExtractContext) -> AsyncIterator[SourceStudent]: ...

    plugin = MisPlugin(INFO, AcmeSession)        # [project.entry-points.misbridge]
                                                 # acme = "misbridge_acme:plugin"

``MisPlugin`` implements ``mis_info``, ``authenticate``, ``check_permissions``,
``register_commands`` and one extract hook per dataset ``MisInfo.datasets`` names, each
calling the session's method of that dataset's name. Every hook goes through one guard:
a session this plugin did not open is a :class:`~misbridge.errors.PluginError` naming
the MIS and the hook.

The session class may be given as ``"module:Class"``, imported on first use, so that a
process that only needs the plugin's description (a stand-in program started once per
report) does not pay for the session's imports.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from misbridge.errors import PluginError
from misbridge.hookspecs import hookimpl
from misbridge.hooktypes import ExtractContext, MisInfo, PermissionCheck
from misbridge.model import Dataset

if TYPE_CHECKING:
    import click

    from misbridge.source import SourceRecord

__all__ = ["DATASET_METHODS", "MisPlugin", "Session"]

S = TypeVar("S", bound="Session")

#: The session method that reads each dataset (its extract hook is ``extract_<name>``).
DATASET_METHODS: dict[Dataset, str] = {
    Dataset.YEARS: "years",
    Dataset.STAFF: "staff",
    Dataset.STUDENTS: "students",
    Dataset.GROUPS: "groups",
    Dataset.PHOTOS: "photos",
    Dataset.EXAM_RESULTS: "exam_results",
    Dataset.ASSESSMENTS: "assessments",
}


class Session:
    """Base of an MIS plugin's session: what ``authenticate`` opens and the extract hooks
    read through.

    Override :meth:`open` and a method per dataset the plugin's ``MisInfo.datasets``
    names (``years``, ``staff``, ``students``, ``groups``, ``photos``, ``exam_results``,
    ``assessments``), each taking the :class:`~misbridge.hooktypes.ExtractContext` and
    returning an asynchronous iterator of source records (write ``async def``
    generators), or None when this session cannot offer the dataset after all (a
    spreadsheet mapping without that sheet). Override :meth:`check` for the permission
    pre-flight and :meth:`aclose` to release what :meth:`open` took; the core always
    closes the session when the extract ends.
    """

    @classmethod
    async def open(cls: type[S], context: ExtractContext) -> S:
        """Open an authenticated session (the ``authenticate`` hook).

        :raises misbridge.AuthenticationError: the MIS refused the credentials.
        :raises misbridge.SourceUnavailableError: the MIS could not be reached.
        """
        raise NotImplementedError(f"{cls.__name__}.open")

    async def check(self, context: ExtractContext) -> Sequence[PermissionCheck] | None:
        """Per dataset, the permissions the account lacks; None: no pre-flight."""
        return None

    async def aclose(self) -> None:
        """Release the connection, process or files the session holds."""


class MisPlugin:
    """The hook implementations of one MIS plugin (see the module docstring).

    ``cli`` names (``"module:function"``) a function that takes the ``MisInfo`` and
    returns the plugin's ``misbridge <mis>`` command group, for a plugin with commands
    of its own; without it the group holds the standard ``check``, ``extract`` and
    ``simulate`` commands (:func:`misbridge.cli_kit.mis_command_group`).
    """

    def __init__(
        self, info: MisInfo, session: type[Session] | str, *, cli: str | None = None
    ) -> None:
        self.info = info
        self._session = session
        self._cli = cli
        # pluggy reads the markers off plain functions, so each hook is a closure over
        # this object rather than a bound method.

        def mis_info() -> MisInfo:
            return self.info

        def authenticate(context: ExtractContext) -> Awaitable[Session]:
            return self.session_type.open(context)

        def check_permissions(
            session: object, context: ExtractContext
        ) -> Awaitable[Sequence[PermissionCheck]] | None:
            return self._check_permissions(session, context)

        def register_commands(cli: click.Group) -> None:
            self._register_commands(cli)

        self.mis_info = hookimpl(mis_info)
        self.authenticate = hookimpl(authenticate)
        self.check_permissions = hookimpl(check_permissions)
        self.register_commands = hookimpl(register_commands)
        for dataset in info.datasets:
            setattr(self, f"extract_{DATASET_METHODS[dataset]}", hookimpl(self._extractor(dataset)))

    def __repr__(self) -> str:
        return f"MisPlugin({self.info.name!r})"

    @property
    def session_type(self) -> type[Session]:
        """The session class, imported on first use when it was given by name."""
        if isinstance(self._session, str):
            found = _resolve(self._session)
            if not (isinstance(found, type) and issubclass(found, Session)):
                raise PluginError(
                    f"{self.info.name}: {self._session} is not a misbridge Session class",
                    mis=self.info.name,
                )
            self._check_methods(found)
            self._session = found
        return self._session

    def _check_methods(self, kind: type[Session]) -> None:
        missing = [
            DATASET_METHODS[d]
            for d in self.info.datasets
            if getattr(kind, DATASET_METHODS[d], None) is None
        ]
        if missing:
            raise PluginError(
                f"{self.info.name}: MisInfo.datasets names datasets its session "
                f"{kind.__name__} has no method for: {', '.join(missing)}",
                mis=self.info.name,
            )

    def _ours(self, session: object, hook: str) -> Any:
        """The one guard: the session must be one this plugin opened."""
        kind = self.session_type
        if not isinstance(session, kind):
            raise PluginError(
                f"{self.info.name}: the {hook} hook was given a {type(session).__name__}, "
                f"not the {kind.__name__} that {self.info.name}'s authenticate opens",
                mis=self.info.name,
                hook=hook,
            )
        return session

    # -- the hooks ---------------------------------------------------------------------------
    def _check_permissions(
        self, session: object, context: ExtractContext
    ) -> Awaitable[Sequence[PermissionCheck]] | None:
        ours: Session = self._ours(session, "check_permissions")
        if type(ours).check is Session.check:
            return None
        return _checked(ours, context, self.info.name)

    def _extractor(
        self, dataset: Dataset
    ) -> Callable[[object, ExtractContext], AsyncIterator[SourceRecord] | None]:
        method = DATASET_METHODS[dataset]
        hook = f"extract_{method}"

        def extract(session: object, context: ExtractContext) -> AsyncIterator[SourceRecord] | None:
            read: Callable[[ExtractContext], AsyncIterator[SourceRecord] | None] = getattr(
                self._ours(session, hook), method
            )
            return read(context)

        extract.__name__ = extract.__qualname__ = hook
        return extract

    def _register_commands(self, cli: click.Group) -> None:
        # The group is built when it is used: ``misbridge --help``, and every other
        # command, must not import each plugin's command module and what it imports.
        from misbridge.cli.lazy import LazyGroup
        from misbridge.cli_kit import mis_group_help

        cli.add_command(LazyGroup(self.info.name, mis_group_help(self.info), self._command_group))

    def _command_group(self) -> click.Group:
        if self._cli is None:
            from misbridge.cli_kit import mis_command_group

            return mis_command_group(self.info)
        build: Callable[[MisInfo], click.Group] = _resolve(self._cli)
        return build(self.info)


async def _checked(
    session: Session, context: ExtractContext, mis: str
) -> Sequence[PermissionCheck]:
    checks = await session.check(context)
    if checks is None:
        raise PluginError(f"{mis}: the session's check() gave no answer", mis=mis)
    return checks


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    if not name:
        raise PluginError(f"{path!r} must be 'module:name'")
    return getattr(importlib.import_module(module), name)
