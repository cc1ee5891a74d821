"""The command line: plugins listing, a plugin's extract driver, exit codes, output files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.plugins import get_plugin_manager
from misbridge.simulation import Fault, serve_loopback
from misbridge.testing.school import sample_school

from .test_plugins import _make_dist
from .toy_mis import TOKEN, ToyPlugin, ToySimulator


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))


def test_version() -> None:
    result = CliRunner().invoke(
        build_cli(get_plugin_manager(load_entrypoints=False)), ["--version"]
    )
    assert result.exit_code == 0 and "misbridge" in result.output


def test_plugins_json_shows_a_broken_plugin_without_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _make_dist(
        tmp_path,
        "misbridge-broken",
        "[misbridge]\nbroken = broken_plugin\n",
        {"broken_plugin": "import no_such_module_anywhere\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = get_plugin_manager(env={}, plugins=[("toy", ToyPlugin())])
    result = CliRunner().invoke(build_cli(plugins), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert "No module named 'no_such_module_anywhere'" in rows["broken"]["error"]
    assert rows["toy"]["mis"] == "toy"
    assert "extract_students" in rows["toy"]["hooks"]
    assert rows["wonde"]["distribution"] == "misbridge" and rows["wonde"]["version"]


def _extract(tmp_path: Path, simulator: ToySimulator, *extra: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin())])
    with serve_loopback(simulator.app) as url:
        result = CliRunner().invoke(
            build_cli(plugins),
            ["toy", "extract", "--base-url", url, "--out", str(out), *extra],
            env={"MISBRIDGE_TOY_TOKEN": TOKEN},
        )
    return result.exit_code, result.output, out


def test_extract_writes_every_dataset_errors_and_summary(tmp_path: Path) -> None:
    school = sample_school(students=40, staff=5)
    code, output, out = _extract(tmp_path, ToySimulator(school))
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["students"]["status"] == "complete"
    students = [json.loads(line) for line in (out / "students.jsonl").read_text().splitlines()]
    assert {s["type"] for s in students} == {"Student"}
    assert len(students) == summary["datasets"]["students"]["records"]
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {"90003", "90004"} <= {e["mis_id"] for e in errors}
    assert (out / "students.jsonl").stat().st_mode & 0o077 == 0
    assert TOKEN not in output


def test_partial_success_exit_code(tmp_path: Path) -> None:
    simulator = ToySimulator(
        sample_school(students=30, staff=4),
        faults=[Fault("status", match="/data/staff", status=403, times=99)],
    )
    code, output, out = _extract(tmp_path, simulator)
    assert code == 3, output
    assert json.loads((out / "summary.json").read_text())["datasets"]["staff"]["status"] == "failed"


def test_missing_credentials_say_how_to_provide_them(tmp_path: Path) -> None:
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin())])
    result = CliRunner().invoke(build_cli(plugins), ["toy", "extract"], env={})
    assert result.exit_code == 1
    assert "MISBRIDGE_TOY_TOKEN" in result.output
    assert "misbridge credentials set toy" in result.output
