"""``misbridge arbor check`` and ``misbridge arbor extract`` against a loopback simulator."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.model import Dataset
from misbridge.plugins import get_plugin_manager
from misbridge.simulation import serve_loopback
from misbridge.testing.school import sample_school
from misbridge_arbor.simulator import simulator


def _invoke(args: list[str], url: str, creds: dict[str, str]) -> tuple[int, str]:
    env = {
        "MISBRIDGE_ARBOR_USERNAME": creds["username"],
        "MISBRIDGE_ARBOR_API_KEY": creds["api_key"],
    }
    result = CliRunner().invoke(
        build_cli(get_plugin_manager()), [*args, "--base-url", url], env=env
    )
    return result.exit_code, result.output


def test_check_names_what_is_missing(tmp_path: Path) -> None:
    sim = simulator(sample_school(students=20, staff=3), hidden_fields={"Student.upn"})
    with serve_loopback(sim.app) as url:
        code, output = _invoke(["arbor", "check"], url, dict(sim.source(url).credentials))
    assert code != 0
    assert "Student.upn" in output
    assert sim.api_key not in output


def test_extract_writes_the_school(tmp_path: Path) -> None:
    school = sample_school(students=20, staff=3)
    sim = simulator(school)
    out = tmp_path / "out"
    with serve_loopback(sim.app) as url:
        code, output = _invoke(
            ["arbor", "extract", "--out", str(out)], url, dict(sim.source(url).credentials)
        )
    assert code in (0, 1), output  # the messy pupils are reported as record errors
    summary = json.loads((out / "summary.json").read_text())
    students = summary["datasets"][Dataset.STUDENTS.value]
    assert students["status"] == "unverified"  # Arbor gives no totals to check a read
    assert students["records"] + students["rejected"] == len(school.students)
    assert sim.api_key not in output
