"""``misbridge store ...`` through the real CLI, reading extract folders as written by
``misbridge <mis> extract --out DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from misbridge.cli import build_cli
from misbridge.cli import store as commands
from misbridge.output import JsonlSink, write_extract_files
from misbridge.plugins import get_plugin_manager
from misbridge.result import ExtractResult
from tests.core.store.factory import school


def write_folder(result: ExtractResult, folder: Path) -> Path:
    sink = JsonlSink(folder)
    for dataset, records in result.records.items():
        for record in records:
            sink.write(dataset, record)
    sink.close()
    write_extract_files(result, folder)
    return folder


@pytest.fixture
def run(store_url: str) -> object:
    plugins = get_plugin_manager(load_entrypoints=False)
    if not plugins.pm.has_plugin("misbridge.cli.store"):
        plugins.pm.register(commands, name="misbridge.cli.store")
    cli = build_cli(plugins)

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            cli, ["store", *args], input=input, env={"MISBRIDGE_STORE": store_url}
        )

    return invoke


def test_apply_status_and_reapply(run: object, tmp_path: Path) -> None:
    folder = write_folder(school(range(10)), tmp_path / "night1")
    first = run("apply", str(folder))  # type: ignore[operator]
    assert first.exit_code == 0, first.output
    assert "Sync applied" in first.output
    status = run("status", "--json")  # type: ignore[operator]
    data = json.loads(status.output)
    assert data["records"]["student"]["enabled"] == 10
    assert data["last_run"]["status"] == "applied"
    again = run("apply", str(folder), "--json")  # type: ignore[operator]
    assert json.loads(again.output)["writes"] == 0
    human = run("status")  # type: ignore[operator]
    assert "student" in human.output and "Last run 2" in human.output


def test_guard_refusal_review_and_approval(run: object, tmp_path: Path) -> None:
    run("apply", str(write_folder(school(range(20)), tmp_path / "a")))  # type: ignore[operator]
    shrunk = write_folder(school(range(10)), tmp_path / "b")
    plan = run("plan", str(shrunk), "--json")  # type: ignore[operator]
    assert plan.exit_code == 0
    planned = json.loads(plan.output)
    assert planned["guard"]["refused"] is True
    refused = run("apply", str(shrunk))  # type: ignore[operator]
    assert refused.exit_code == 4
    assert f"--approve {planned['hash']}" in refused.output
    review = run("review", planned["hash"])  # type: ignore[operator]
    assert json.loads(review.output)["status"] == "refused"
    approved = run("apply", str(shrunk), "--approve", planned["hash"])  # type: ignore[operator]
    assert approved.exit_code == 0, approved.output
    assert "Applied on approval" in approved.output
    dry = run("apply", str(shrunk), "--dry-run", "--json")  # type: ignore[operator]
    assert json.loads(dry.output)["dry_run"] is True


def test_switch_mis_and_purge_ask_first(run: object, tmp_path: Path) -> None:
    run("apply", str(write_folder(school(range(5)), tmp_path / "a")))  # type: ignore[operator]
    declined = run("switch-mis", input="n\n")  # type: ignore[operator]
    assert declined.exit_code == 1
    switched = run("switch-mis", "--yes")  # type: ignore[operator]
    assert switched.exit_code == 0 and "Cleared 12 MIS ids" in switched.output
    purged = run("purge", "--older-than", "0", "--yes")  # type: ignore[operator]
    assert purged.exit_code == 0 and "Erased the personal data of 0 records" in purged.output
    bad = run("purge", "--older-than", "-3", "--yes")  # type: ignore[operator]
    assert bad.exit_code == 2


def test_not_an_extract_folder(run: object, tmp_path: Path) -> None:
    result = run("plan", str(tmp_path))  # type: ignore[operator]
    assert result.exit_code == 1
    assert "not an extract folder" in result.output
