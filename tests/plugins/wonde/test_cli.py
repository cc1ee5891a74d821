"""``misbridge wonde ...`` against the simulator on a loopback port (the real CLI path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.model import Dataset
from misbridge.plugins import Plugins
from misbridge.simulation import serve_loopback
from misbridge.source import SourceSchool
from misbridge_wonde.simulator import WondeSimulator, simulate


@pytest.fixture
def served(small_school: SourceSchool) -> Iterator[tuple[WondeSimulator, str]]:
    sim = simulate(small_school, deny=[Dataset.PHOTOS])
    with serve_loopback(sim.app) as url:
        yield sim, sim.source(url).settings["base_url"]


def invoke(plugins: Plugins, sim: WondeSimulator, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        build_cli(plugins), ["wonde", *args], env={"MISBRIDGE_WONDE_TOKEN": sim.token}
    )
    return result.exit_code, result.output


def test_schools_lists_the_approved_schools(
    plugins: Plugins, served: tuple[WondeSimulator, str]
) -> None:
    sim, base_url = served
    code, output = invoke(plugins, sim, "schools", "--base-url", base_url, "--json")
    assert code == 0, output
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [(r["id"], r["name"]) for r in rows] == [("SCH4321", "Hollowfield Academy")]
    code, output = invoke(plugins, sim, "schools", "--base-url", base_url)
    assert code == 0 and "SCH4321" in output and "Hollowfield" in output


def test_check_names_what_is_missing(plugins: Plugins, served: tuple[WondeSimulator, str]) -> None:
    sim, base_url = served
    code, output = invoke(plugins, sim, "check", "--base-url", base_url, "--school-id", "SCH4321")
    assert code == 3, output  # partial: photos are not granted
    assert "photos" in output and "students" in output


def test_extract_writes_the_school(
    plugins: Plugins, served: tuple[WondeSimulator, str], tmp_path: Path
) -> None:
    sim, base_url = served
    out = tmp_path / "out"
    code, output = invoke(
        plugins, sim, "extract", "--base-url", base_url, "--school-id", "SCH4321", "--out", str(out)
    )
    assert code == 0, output
    assert sim.token not in output
    written = {p.name for p in out.iterdir()}
    assert "summary.json" in written
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["students"]["records"] == 38
    assert summary["datasets"]["groups"]["status"] == "complete"


def test_deletions_prints_json_lines(plugins: Plugins, served: tuple[WondeSimulator, str]) -> None:
    sim, base_url = served
    sim.delete("students", "10007", datetime(2026, 10, 1, tzinfo=UTC))
    sim.delete("employees", "S1002", datetime(2026, 10, 3, tzinfo=UTC))
    sim.restore("employees", "S1002", datetime(2026, 10, 4, tzinfo=UTC))
    code, output = invoke(
        plugins, sim, "deletions", "--base-url", base_url, "--school-id", "SCH4321"
    )
    assert code == 0, output
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [(r["id"], r["type"], r["mis_id"]) for r in rows] == [
        ("10007", "student", "10007"),
        ("S1002", "employee", "S1002"),
    ]
    assert rows[0]["deleted_at"]["date"] == "2026-10-01 00:00:00.000000"
    assert rows[0]["restored_at"] is None
    assert rows[1]["restored_at"]["date"] == "2026-10-04 00:00:00.000000"
    # The documented filters: type, and a date alone for updated_after/updated_before.
    code, output = invoke(
        plugins,
        sim,
        "deletions",
        "--base-url",
        base_url,
        "--school-id",
        "SCH4321",
        "--type",
        "employee",
        "--since",
        "2026-10-02",
        "--until",
        "2026-10-05",
    )
    assert code == 0, output
    assert [json.loads(line)["id"] for line in output.splitlines() if line.startswith("{")] == [
        "S1002"
    ]


def test_no_command_takes_the_token_as_an_argument(plugins: Plugins) -> None:
    cli = build_cli(plugins)
    for command in ("schools", "check", "extract", "deletions"):
        result = CliRunner().invoke(cli, ["wonde", command, "--help"])
        assert result.exit_code == 0
        assert "--token" not in result.output


def test_a_wrong_token_is_a_clear_failure(
    plugins: Plugins, served: tuple[WondeSimulator, str]
) -> None:
    _, base_url = served
    result = CliRunner().invoke(
        build_cli(plugins),
        ["wonde", "schools", "--base-url", base_url],
        env={"MISBRIDGE_WONDE_TOKEN": "not-a-real-token"},
    )
    assert result.exit_code == 1
    assert "refused the credentials" in result.output
    assert "not-a-real-token" not in result.output
