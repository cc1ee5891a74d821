"""The plugin API: versions, deprecated hooks, the session helper's one guard."""

from __future__ import annotations

import asyncio
import sys
import types
import warnings
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.errors import PluginError
from misbridge.hookspecs import (
    API_VERSION,
    PluginApiDeprecationWarning,
    deprecated,
    hookimpl,
)
from misbridge.hooktypes import ExtractContext, MisInfo
from misbridge.model import Dataset
from misbridge.plugins import api_refusal, get_plugin_manager
from misbridge.session import MisPlugin, Session
from misbridge.source import SourceStudent


class _Session(Session):
    @classmethod
    async def open(cls, context: ExtractContext) -> _Session:
        return cls()

    async def students(self, context: ExtractContext) -> AsyncIterator[SourceStudent]:
        yield SourceStudent("1", legal_forename="Ann", legal_surname="Lee")


def _info(name: str = "acme", api: str = API_VERSION) -> MisInfo:
    return MisInfo(name=name, title=f"{name.title()} MIS", datasets=(Dataset.STUDENTS,), api=api)


def test_versions_the_core_refuses_say_why() -> None:
    assert api_refusal(_info(api=API_VERSION)) is None
    assert api_refusal(_info(api="1.0")) is None
    major = int(API_VERSION.split(".")[0])
    newer_major = api_refusal(_info(api=f"{major + 1}.0"))
    assert newer_major and f"written for plugin API {major + 1}.0" in newer_major
    assert "upgrade misbridge" in newer_major
    older_major = api_refusal(_info(api=f"{major - 1}.4"))
    assert older_major and f"made for misbridge's plugin API {major}.x" in older_major
    newer_minor = api_refusal(_info(api=f"{major}.99"))
    assert newer_minor and "newer than this misbridge's" in newer_minor
    assert "MAJOR.MINOR" in (api_refusal(_info(api="one")) or "")


def test_a_plugin_for_another_major_version_is_listed_with_the_reason_and_never_used() -> None:
    future = MisPlugin(_info("future", api="2.0"), _Session)
    current = MisPlugin(_info("acme"), _Session)
    plugins = get_plugin_manager(
        load_entrypoints=False, plugins=[("future", future), ("acme", current)]
    )
    assert "future" not in plugins.mis and "acme" in plugins.mis
    assert not plugins.pm.has_plugin("future")
    (row,) = [r for r in plugins.describe() if r["name"] == "future"]
    assert row["error"].startswith("written for plugin API 2.0, but this misbridge speaks")

    result = CliRunner().invoke(build_cli(plugins), ["plugins"])
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if x.startswith("plugin=future"))
    assert "written for plugin API 2.0" in line
    # Never loaded: it adds no command, while the current plugin does.
    commands = CliRunner().invoke(build_cli(plugins), ["--help"]).output
    assert "acme" in commands and "future" not in commands


def test_a_deprecated_hook_warns_once_per_plugin() -> None:
    specs = types.ModuleType("old_specs")

    @deprecated("1.0", "return the rows from extract_students instead")
    def legacy_rows(context: object) -> None:
        """An old hook."""

    specs.legacy_rows = legacy_rows  # type: ignore[attr-defined]

    class Old:
        @hookimpl
        def legacy_rows(self, context: object) -> None:
            return None

    seen: list[warnings.WarningMessage] = []
    for _ in range(3):  # three plugin managers in one process, as tests and embedders make
        plugins = get_plugin_manager(load_entrypoints=False)
        plugins.pm.add_hookspecs(specs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plugins.register(Old(), "old-plugin")
        seen += [w for w in caught if issubclass(w.category, PluginApiDeprecationWarning)]
    assert len(seen) == 1
    message = str(seen[0].message)
    assert "plugin 'old-plugin'" in message and "legacy_rows hook is deprecated" in message
    assert "return the rows from extract_students instead" in message


def test_hooks_come_from_the_session_and_only_for_declared_datasets() -> None:
    plugin = MisPlugin(_info(), _Session)
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("acme", plugin)])
    (row,) = [r for r in plugins.describe() if r["name"] == "acme"]
    assert row["hooks"] == [
        "authenticate",
        "check_permissions",
        "extract_students",
        "mis_info",
        "register_commands",
    ]
    hooks = plugins.for_mis("acme")
    context = ExtractContext(mis="acme")

    async def read() -> list[object]:
        session = await hooks.authenticate(context)
        # No check() override: no pre-flight, said as None (the CLI explains).
        assert hooks.check_permissions(session, context) is None
        stream = hooks.extract(Dataset.STUDENTS, session, context)
        assert stream is not None
        return [r async for r in stream]

    assert [r.mis_id for r in asyncio.run(read())] == ["1"]  # type: ignore[attr-defined]


def test_one_guard_one_error_for_a_session_the_plugin_did_not_open() -> None:
    plugin = MisPlugin(_info(), _Session)
    with pytest.raises(PluginError, match="extract_students hook was given a str") as raised:
        plugin.extract_students("not a session", ExtractContext(mis="acme"))  # type: ignore[attr-defined]
    assert raised.value.context == {"mis": "acme", "hook": "extract_students"}
    with pytest.raises(PluginError, match="check_permissions hook"):
        plugin.check_permissions(object(), ExtractContext(mis="acme"))  # type: ignore[attr-defined]


def test_a_session_named_by_path_is_checked_against_the_declared_datasets() -> None:
    module = types.ModuleType("acme_session_for_test")

    class Partial(Session):
        def students(self, context: ExtractContext) -> None:
            return None

    module.Partial = Partial  # type: ignore[attr-defined]
    module.NotASession = object  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        info = MisInfo(name="acme", title="Acme", datasets=(Dataset.STUDENTS, Dataset.STAFF))
        lazy = MisPlugin(info, f"{module.__name__}:Partial")
        with pytest.raises(PluginError, match="has no method for: staff"):
            _ = lazy.session_type
        with pytest.raises(PluginError, match="is not a misbridge Session class"):
            _ = MisPlugin(info, f"{module.__name__}:NotASession").session_type
    finally:
        del sys.modules[module.__name__]
