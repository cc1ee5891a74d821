"""``misbridge plugin new``: the generated package keeps to the facade and passes the
conformance suite against its own simulator, straight away.

CI also installs a generated package and runs its suite there (``.ci/run``); this test
runs the same suite in-process, so a template change that breaks it fails here first.
"""

from __future__ import annotations

import ast
import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.errors import ConfigurationError
from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.scaffold import new_plugin
from misbridge.testing.conformance import ConformanceSuite


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    folder = tmp_path_factory.mktemp("scaffold")
    result = CliRunner().invoke(
        build_cli(get_plugin_manager(load_entrypoints=False)),
        ["plugin", "new", "quill", "--title", "Quill School Office", "--dir", str(folder)],
    )
    assert result.exit_code == 0, result.output
    root = folder / "misbridge-quill"
    sys.path.insert(0, str(root / "src"))
    try:
        yield root, importlib.import_module("misbridge_quill")
    finally:
        sys.path.remove(str(root / "src"))
        for name in [m for m in sys.modules if m.startswith("misbridge_quill")]:
            del sys.modules[name]


def test_the_package_declares_its_entry_point_and_imports_only_the_facade(
    generated: tuple[Path, Any],
) -> None:
    root, module = generated
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["entry-points"]["misbridge"] == {"quill": "misbridge_quill:plugin"}
    assert module.INFO.title == "Quill School Office"
    for path in (root / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("misbridge."):
                assert node.module == "misbridge.plugin", f"{path.name}: {node.module}"


def test_a_name_that_cannot_be_an_mis_is_refused(tmp_path: Path) -> None:
    for bad in ("Quill", "9lives", "a", "class", "quill-mis"):
        with pytest.raises(ConfigurationError, match="cannot name an MIS plugin"):
            new_plugin(bad, tmp_path)
    new_plugin("quill", tmp_path)
    with pytest.raises(ConfigurationError, match="already exists"):
        new_plugin("quill", tmp_path)


def test_the_generated_plugin_passes_the_conformance_suite(generated: tuple[Path, Any]) -> None:
    _, module = generated
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("quill", module.plugin)])

    class Suite(ConformanceSuite):
        mis = "quill"
        proves_complete = True
        paged = ("/students", {"per_page": "10"})

        def plugin_manager(self) -> Plugins:
            return plugins

    suite = Suite()
    suite.test_round_trip_sample_school()
    suite.test_wrong_credentials_are_refused()
    suite.test_denied_dataset_is_named_and_fails_alone()
    suite.test_extract_hooks_stream()
    suite.test_a_lying_server_is_never_complete()
