"""Finding, loading and calling plugins.

:func:`get_plugin_manager` builds a fresh :class:`Plugins` each time (there is no
module-level manager, so tests and embedding applications stay isolated):

1. core features that are themselves plugins (:data:`DEFAULT_PLUGINS`) are registered;
2. every ``misbridge`` entry point is loaded *one by one*: a plugin that fails to import,
   to register, or that implements an unknown hook is recorded in ``load_errors`` and
   shown by ``misbridge plugins``; it never stops the others or the CLI;
3. ``MISBRIDGE_LOAD_PLUGINS`` (comma-separated entry-point or distribution names; empty
   means none) limits which entry points load;
4. each MIS plugin's ``mis_info`` is read; a plugin written for another major version of
   the plugin API (``MisInfo.api``, see :data:`misbridge.hookspecs.API_VERSION`), or for a
   newer minor version than this core's, is rejected with the reason and never used, and
   so is a second plugin claiming an MIS name that is already taken;
5. a plugin implementing a deprecated hook gets one warning per process (pluggy's
   ``warn_on_impl``), naming the hook and what replaces it.

:meth:`Plugins.for_mis` gives typed hook callers that run only the selected MIS
plugin's implementations, while wrappers from cross-cutting plugins still apply.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from typing import Any, cast

import pluggy
import structlog
from attrs import define, field, frozen

from misbridge import hookspecs
from misbridge.errorcodes import register_title
from misbridge.errors import PluginError, UnknownMisError
from misbridge.hooktypes import ExtractContext, MisInfo, MisSession, PermissionCheck
from misbridge.model import Dataset
from misbridge.source import SourceRecord

__all__ = [
    "DEFAULT_PLUGINS",
    "LoadedMis",
    "MisHooks",
    "PluginLoadError",
    "Plugins",
    "api_refusal",
    "get_plugin_manager",
]

log = structlog.get_logger()

ENTRY_POINT_GROUP = "misbridge"
ALLOW_ENV = "MISBRIDGE_LOAD_PLUGINS"

#: Core features shipped as plugins of our own hooks, registered by module name. (The
#: core's own commands are plugins too, registered when the command line is built:
#: :data:`misbridge.cli.COMMAND_PLUGINS`, so that a library caller never imports them.)
DEFAULT_PLUGINS: tuple[str, ...] = ("misbridge.report.webhook",)

EXTRACT_HOOKS: dict[Dataset, str] = {
    Dataset.YEARS: "extract_years",
    Dataset.STAFF: "extract_staff",
    Dataset.STUDENTS: "extract_students",
    Dataset.GROUPS: "extract_groups",
    Dataset.PHOTOS: "extract_photos",
    Dataset.EXAM_RESULTS: "extract_exam_results",
    Dataset.ASSESSMENTS: "extract_assessments",
}


@frozen
class PluginLoadError:
    """A plugin that could not be used, and why."""

    name: str
    distribution: str | None
    error: str


@frozen
class LoadedMis:
    """An MIS plugin the registry accepted."""

    info: MisInfo
    plugin_name: str
    distribution: str | None
    version: str | None


@define
class MisHooks:
    """Typed callers for one MIS: only its implementations, plus every wrapper."""

    mis: str
    _callers: dict[str, Any] = field(alias="callers")

    def authenticate(self, context: ExtractContext) -> Awaitable[MisSession]:
        result = self._callers["authenticate"](context=context)
        if result is None:
            raise PluginError(f"{self.mis}: the plugin does not implement 'authenticate'")
        return cast(Awaitable[MisSession], result)

    def check_permissions(
        self, session: MisSession, context: ExtractContext
    ) -> Awaitable[Sequence[PermissionCheck]] | None:
        result = self._callers["check_permissions"](session=session, context=context)
        return cast("Awaitable[Sequence[PermissionCheck]] | None", result)

    def extract(
        self, dataset: Dataset, session: MisSession, context: ExtractContext
    ) -> AsyncIterator[SourceRecord] | None:
        """The dataset's record stream, or None when the MIS plugin does not offer it."""
        result = self._callers[EXTRACT_HOOKS[dataset]](session=session, context=context)
        return cast("AsyncIterator[SourceRecord] | None", result)


@define
class Plugins:
    """The loaded plugins: the pluggy manager, the MIS registry and the load errors."""

    pm: pluggy.PluginManager
    load_errors: list[PluginLoadError] = field(factory=list)
    mis: dict[str, LoadedMis] = field(factory=dict)
    _distributions: dict[str, tuple[str, str]] = field(factory=dict, alias="distributions")

    def info(self, mis: str) -> MisInfo:
        return self.get(mis).info

    def get(self, mis: str) -> LoadedMis:
        try:
            return self.mis[mis]
        except KeyError:
            known = ", ".join(sorted(self.mis)) or "none"
            raise UnknownMisError(
                f"no installed plugin serves the MIS {mis!r} (installed: {known}); "
                "run 'misbridge plugins' to see load errors",
                mis=mis,
            ) from None

    def for_mis(self, mis: str) -> MisHooks:
        selected = self.get(mis).plugin_name
        others = [
            self.pm.get_plugin(p.plugin_name)
            for p in self.mis.values()
            if p.plugin_name != selected
        ]
        callers = {
            name: self.pm.subset_hook_caller(name, remove_plugins=[o for o in others if o])
            for name in ("authenticate", "check_permissions", *EXTRACT_HOOKS.values())
        }
        return MisHooks(mis=mis, callers=callers)

    def describe(self) -> list[dict[str, Any]]:
        """One entry per plugin for ``misbridge plugins``: name, version, hooks, errors."""
        rows: list[dict[str, Any]] = []
        mis_by_plugin = {p.plugin_name: name for name, p in self.mis.items()}
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda item: item[0]):
            dist, version = self._distributions.get(name, ("misbridge (built in)", ""))
            rows.append(
                {
                    "name": name,
                    "mis": mis_by_plugin.get(name),
                    "distribution": dist,
                    "version": version or None,
                    "hooks": sorted(h.name for h in self.pm.get_hookcallers(plugin) or []),
                    "error": None,
                }
            )
        rows.extend(
            {
                "name": e.name,
                "mis": None,
                "distribution": e.distribution,
                "version": None,
                "hooks": [],
                "error": e.error,
            }
            for e in self.load_errors
        )
        return rows

    def register(
        self, plugin: object, name: str, distribution: tuple[str, str] | None = None
    ) -> None:
        """Register one more plugin (tests, embedding applications), validating it."""
        _register(self.pm, plugin, name)
        if distribution:
            self._distributions[name] = distribution
        self._check_pending()
        self._read_mis_info()

    def record_error(self, name: str, error: str) -> None:
        """Record that a loaded plugin failed at something later (its commands)."""
        dist = self._distributions.get(name, (None, ""))[0]
        self.load_errors.append(PluginLoadError(name=name, distribution=dist, error=error))
        log.warning("plugin.failed", plugin=name, error=error)

    def _check_pending(self) -> None:
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                self.pm.unregister(exc.plugin)
                self._reject(name, f"implements a hook misbridge does not define: {exc}")

    def _reject(self, name: str, error: str) -> None:
        dist = self._distributions.pop(name, (None, ""))[0]
        self.load_errors.append(PluginLoadError(name=name, distribution=dist, error=error))
        log.warning("plugin.rejected", plugin=name, error=error)

    def _read_mis_info(self) -> None:
        for impl in self.pm.hook.mis_info.get_hookimpls():
            name = impl.plugin_name
            if any(p.plugin_name == name for p in self.mis.values()):
                continue
            try:
                info = impl.function()
                if not isinstance(info, MisInfo):
                    raise TypeError(f"mis_info returned {type(info).__name__}, not MisInfo")
            except Exception as exc:
                self.pm.unregister(name=name)
                self._reject(name, f"mis_info failed: {type(exc).__name__}: {exc}")
                continue
            refusal = api_refusal(info)
            if refusal is not None:
                self.pm.unregister(name=name)
                self._reject(name, refusal)
                continue
            if info.name in self.mis:
                owner = self.mis[info.name].plugin_name
                self.pm.unregister(name=name)
                self._reject(
                    name, f"claims the MIS name {info.name!r}, already served by {owner!r}"
                )
                continue
            dist, version = self._distributions.get(name, (None, ""))
            self.mis[info.name] = LoadedMis(info, name, dist, version or None)
            register_title(info.name, info.title)


def api_refusal(info: MisInfo) -> str | None:
    """Why this core cannot use a plugin written for ``info.api``, or None if it can.

    Same major version, and a minor version no newer than the core's: a plugin written
    for 1.0 runs on a 1.3 core; one written for 1.3 may use what a 1.0 core lacks, and
    one written for 2.x expects hooks this core does not have.
    """
    core = hookspecs.API_VERSION
    try:
        major, minor = (int(part) for part in info.api.split("."))
    except ValueError:
        return (
            f"MisInfo.api is {info.api!r}; it must be the plugin API version the plugin was "
            f"written for, as MAJOR.MINOR (this misbridge speaks {core})"
        )
    core_major, core_minor = (int(part) for part in core.split("."))
    if major != core_major:
        return (
            f"written for plugin API {info.api}, but this misbridge speaks {core}: install a "
            f"version of the plugin made for misbridge's plugin API {core_major}.x"
            + (", or upgrade misbridge" if major > core_major else "")
        )
    if minor > core_minor:
        return (
            f"written for plugin API {info.api}, newer than this misbridge's {core}: upgrade "
            "misbridge"
        )
    return None


#: (plugin name, hook) pairs already warned about in this process.
_WARNED: set[tuple[str, str]] = set()


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Register ``plugin``; a deprecated hook it implements warns once per process."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", hookspecs.PluginApiDeprecationWarning)
        pm.register(plugin, name=name)
    for warning in caught:
        if not issubclass(warning.category, hookspecs.PluginApiDeprecationWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
            continue
        key = (name, str(warning.message))
        if key in _WARNED:
            continue
        _WARNED.add(key)
        log.warning("plugin.deprecated_hook", plugin=name, warning=str(warning.message))
        warnings.warn_explicit(
            f"plugin {name!r}: {warning.message}",
            warning.category,
            warning.filename,
            warning.lineno,
        )


def _allowed(env: Mapping[str, str]) -> set[str] | None:
    raw = env.get(ALLOW_ENV)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _entry_points(
    allowed: set[str] | None,
) -> Iterable[tuple[importlib.metadata.EntryPoint, tuple[str, str]]]:
    """The ``misbridge`` entry points, each with its distribution's (name, version).

    Only the metadata of a distribution that has one of our entry points is parsed: an
    environment holds a hundred packages or more, and parsing each one's metadata was
    most of the time the plugin manager took apart from imports.
    """
    seen: set[tuple[str, str]] = set()
    for dist in importlib.metadata.distributions():
        ours = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
        if not ours:
            continue
        dist_info = (dist.metadata["Name"] or "?", dist.version)
        for ep in ours:
            if (dist_info[0], ep.name) in seen:
                continue
            seen.add((dist_info[0], ep.name))
            if allowed is not None and ep.name not in allowed and dist_info[0] not in allowed:
                continue
            yield ep, dist_info


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    plugins: Sequence[tuple[str, object]] = (),
    env: Mapping[str, str] | None = None,
) -> Plugins:
    """Build a new plugin manager. ``plugins`` adds (name, plugin) pairs, for tests."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Plugins(pm=pm)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if load_entrypoints:
        allowed = _allowed(os.environ if env is None else env)
        for ep, dist_info in _entry_points(allowed):
            if pm.has_plugin(ep.name):
                registry.load_errors.append(
                    PluginLoadError(ep.name, dist_info[0], "another plugin has the same name")
                )
                continue
            try:
                plugin = ep.load()
                _register(pm, plugin, ep.name)
            except Exception as exc:  # a broken plugin must never stop the others
                registry.load_errors.append(
                    PluginLoadError(ep.name, dist_info[0], f"{type(exc).__name__}: {exc}")
                )
                log.warning("plugin.load_failed", plugin=ep.name, error=type(exc).__name__)
                continue
            registry._distributions[ep.name] = dist_info
    for name, plugin in plugins:
        _register(pm, plugin, name)
    registry._check_pending()
    registry._read_mis_info()
    return registry
