"""``misbridge sims check|extract|reports`` through the real CLI and the stand-in."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.plugins import get_plugin_manager
from misbridge_sims.cli import definitions_markdown
from misbridge_sims.reports import REPORTS

DOCS = Path(__file__).parents[3] / "docs" / "plugins" / "sims.md"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))
    for name in ("MISBRIDGE_SIMS_USER", "MISBRIDGE_SIMS_PASSWORD", "MISBRIDGE_SIMS_REPORTER"):
        monkeypatch.delenv(name, raising=False)


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(get_plugin_manager()), args, env=env)
    return result.exit_code, result.output


def test_check_names_what_is_missing_per_report(make_sim) -> None:
    sim = make_sim(groups=["Third Party Reporter", "School Administrator", "Personnel Officer"])
    env = {"MISBRIDGE_SIMS_USER": "misbridge-sync", "MISBRIDGE_SIMS_PASSWORD": sim.password}
    code, output = _invoke(["sims", "check", "--reporter", str(sim.reporter)], env)
    assert code == 3, output
    assert "Exams Officer" in output and "Curricular Manager" in output
    assert re.search(r"report misbridge Students: read \d+ records in", output)  # progress
    assert "report misbridge Exam Results: failed after 0 records" in output
    assert sim.password not in output


def test_extract_with_reporter_writes_the_extract(make_sim, tmp_path: Path) -> None:
    sim = make_sim()
    out = tmp_path / "out"
    code, output = _invoke(
        ["sims", "extract", "--reporter", str(sim.reporter), "--trusted", "true", "--out", str(out)]
    )
    assert code == 0, output
    assert "report misbridge Registration Groups and Houses: read" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["students"]["status"] == "complete"
    assert (
        summary["datasets"]["students"]["records"] + summary["datasets"]["students"]["rejected"]
        == 40
    )


def test_extract_from_exported_files(make_sim, tmp_path: Path) -> None:
    sim = make_sim()
    exported = tmp_path / "exported"
    exported.mkdir()
    for report in REPORTS:
        subprocess.run(
            [
                str(sim.reporter),
                "/TRUSTED",
                f"/REPORT:{report.name()}",
                f"/OUTPUT:{exported / report.name()}.xml",
            ],
            check=True,
        )
    out = tmp_path / "out"
    code, output = _invoke(
        ["sims", "extract", "--from-xml", str(exported), "--exam-results", "--out", str(out)]
    )
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["datasets"]["exam_results"]["status"] == "complete"


def test_without_reporter_or_folder_the_error_says_what_to_set() -> None:
    code, output = _invoke(["sims", "extract", "--trusted", "true"])
    assert code == 1
    assert "--reporter" in output and "--from-xml" in output


def test_reports_command_and_docs_ship_the_same_definitions() -> None:
    code, output = _invoke(["sims", "reports"])
    assert code == 0
    assert output.strip() == definitions_markdown().strip()
    for report in REPORTS:
        assert f"### {report.name()}" in output
    # The docs embed the very same definitions, so a SIMS administrator imports what
    # the plugin asks for.
    assert definitions_markdown() in DOCS.read_text(encoding="utf-8")
