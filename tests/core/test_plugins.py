"""The plugin manager: loading, isolation of broken plugins, MIS selection, wrappers."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from misbridge import hookimpl
from misbridge.errors import UnknownMisError
from misbridge.hooktypes import ExtractContext, MisInfo
from misbridge.model import Dataset
from misbridge.plugins import get_plugin_manager
from misbridge.source import SourceStaff

from .toy_mis import ToyPlugin


class OtherMis:
    """A second MIS whose staff hook must never run when 'toy' is selected."""

    calls: list[str]

    def __init__(self, name: str = "other") -> None:
        self.name = name
        self.calls = []

    @hookimpl
    def mis_info(self) -> MisInfo:
        return MisInfo(name=self.name, title="Other")

    @hookimpl
    def extract_staff(self, session: Any, context: ExtractContext) -> AsyncIterator[SourceStaff]:
        self.calls.append("extract_staff")

        async def gen() -> AsyncIterator[SourceStaff]:
            yield SourceStaff(mis_id="other")

        return gen()


class Auditor:
    """A cross-cutting wrapper: sees every MIS's staff stream."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(wrapper=True)
    def extract_staff(self, session: Any, context: ExtractContext) -> Any:
        stream = yield
        if stream is None:
            return None

        async def audited() -> AsyncIterator[SourceStaff]:
            async for record in stream:
                self.seen.append(record.mis_id)
                yield record

        return audited()


def _make_dist(tmp_path: Path, dist: str, entry_points: str, modules: dict[str, str]) -> None:
    info = tmp_path / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))


def test_broken_third_party_plugin_is_recorded_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dist(
        tmp_path,
        "misbridge-broken",
        "[misbridge]\nbroken = broken_plugin\n",
        {"broken_plugin": "raise RuntimeError('this plugin is broken on purpose')\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = get_plugin_manager(env={})
    errors = {e.name: e for e in plugins.load_errors}
    assert "broken" in errors
    assert "broken on purpose" in errors["broken"].error
    assert errors["broken"].distribution == "misbridge-broken"
    rows = {r["name"]: r for r in plugins.describe()}
    assert rows["broken"]["error"]


def test_plugin_implementing_unknown_hook_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dist(
        tmp_path,
        "misbridge-typo",
        "[misbridge]\ntypo = typo_plugin\n",
        {
            "typo_plugin": """
            from misbridge import hookimpl
            @hookimpl
            def extract_studnets(session, context):
                return None
            """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = get_plugin_manager(env={})
    error = next(e for e in plugins.load_errors if e.name == "typo")
    assert "extract_studnets" in error.error
    assert not plugins.pm.has_plugin("typo")


def test_allow_list_limits_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_dist(
        tmp_path,
        "misbridge-broken",
        "[misbridge]\nbroken = broken_plugin\n",
        {"broken_plugin": "raise RuntimeError('boom')\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    none = get_plugin_manager(env={"MISBRIDGE_LOAD_PLUGINS": ""})
    assert none.mis == {} and none.load_errors == []
    only = get_plugin_manager(env={"MISBRIDGE_LOAD_PLUGINS": "broken"})
    assert [e.name for e in only.load_errors] == ["broken"]
    assert only.mis == {}


def test_two_plugins_claiming_one_mis_name() -> None:
    plugins = get_plugin_manager(
        load_entrypoints=False, plugins=[("first", OtherMis()), ("second", OtherMis())]
    )
    assert plugins.mis["other"].plugin_name == "first"
    error = next(e for e in plugins.load_errors if e.name == "second")
    assert "already served by 'first'" in error.error
    assert not plugins.pm.has_plugin("second")


def test_unknown_mis_names_what_is_installed() -> None:
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin())])
    with pytest.raises(UnknownMisError, match="installed: toy"):
        plugins.for_mis("nope")


def test_selecting_one_mis_runs_only_its_hooks_but_every_wrapper() -> None:
    other = OtherMis()
    auditor = Auditor()
    plugins = get_plugin_manager(
        load_entrypoints=False,
        plugins=[("toy", ToyPlugin()), ("other", other), ("auditor", auditor)],
    )
    hooks = plugins.for_mis("other")
    stream = hooks.extract(Dataset.STAFF, session=None, context=ExtractContext(mis="other"))  # type: ignore[arg-type]
    assert stream is not None

    async def drain() -> list[str]:
        return [r.mis_id async for r in stream]  # type: ignore[union-attr]

    assert asyncio.run(drain()) == ["other"]
    assert auditor.seen == ["other"]
    assert other.calls == ["extract_staff"]
    # The toy plugin does not implement nothing-but-staff: selecting it must not call 'other'.
    other.calls.clear()
    toy_hooks = plugins.for_mis("toy")
    assert toy_hooks.extract(Dataset.STAFF, session=None, context=None) is not None  # type: ignore[arg-type]
    assert other.calls == []


def test_first_party_plugins_are_entry_points() -> None:
    plugins = get_plugin_manager(env={})
    assert {"sims", "arbor", "bromcom", "wonde"} <= {
        r["name"] for r in plugins.describe() if r["distribution"] == "misbridge"
    }
