"""The nightly schedule: each format generated, then checked by the real tool where this
machine has it, and parsed back."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.jobs.config import Schedule
from misbridge.jobs.schedule import (
    NightlyJob,
    cron_line,
    next_run,
    parse_cron_line,
    parse_task_xml,
    parse_timer,
    task_xml,
)
from misbridge.plugins import get_plugin_manager

CONFIG = """store = "sqlite:///misbridge.db"
[schedule]
at = "01:45"
randomised_delay_minutes = 20
[[school]]
name = "oakfield"
mis = "wonde"
[school.settings]
school_id = "A1930499544"
"""


def job(tmp_path: Path) -> NightlyJob:
    program = Path(shutil.which("misbridge") or "/usr/bin/true")
    return NightlyJob(
        program, tmp_path / "my school" / "misbridge.toml", Schedule(time(1, 45), 20), tmp_path
    )


def _verify(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but systemd-analyze is missing (apt-get install systemd)")
        pytest.skip("systemd-analyze is not installed here")
    config = tmp_path / "misbridge.toml"
    config.write_text(CONFIG)
    units = tmp_path / "units"
    result = CliRunner().invoke(
        build_cli(get_plugin_manager(load_entrypoints=False)),
        [
            "schedule",
            "install",
            "--systemd",
            "--unit-dir",
            str(units),
            "--no-enable",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    timer, service = units / "misbridge.timer", units / "misbridge.service"
    checked = _verify(timer, service)
    assert checked.returncode == 0, checked.stderr
    assert parse_timer(timer.read_text()) == Schedule(time(1, 45), 20)
    assert f"--config {config}" in service.read_text()
    assert "UMask=0077" in service.read_text()
    # The check can fail: a broken timer is refused by the same tool.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "misbridge.service").write_text(service.read_text())
    (broken / "misbridge.timer").write_text(
        timer.read_text().replace("OnCalendar=*-*-*", "OnCalendar=someday")
    )
    assert _verify(broken / "misbridge.timer", broken / "misbridge.service").returncode != 0
    shown = CliRunner().invoke(
        build_cli(get_plugin_manager(load_entrypoints=False)),
        ["schedule", "show", "--systemd", "--unit-dir", str(units)],
    )
    assert shown.exit_code == 0 and "Next run: between" in shown.output


def test_the_crontab_line_parses_back(tmp_path: Path) -> None:
    text = cron_line(job(tmp_path))
    tag, line = text.splitlines()
    assert tag.endswith(str(tmp_path / "my school" / "misbridge.toml"))
    schedule, words = parse_cron_line(line)
    assert schedule == Schedule(time(1, 45), 20)
    assert words[1:4] == ["run", "--config", str(tmp_path / "my school" / "misbridge.toml")]
    assert words[words.index("--random-delay") + 1] == "20"


def test_the_task_scheduler_definition_parses_back(tmp_path: Path) -> None:
    text = task_xml(job(tmp_path), datetime(2026, 12, 1, 9, 0))
    schedule, command, arguments = parse_task_xml(text)
    assert schedule == Schedule(time(1, 45), 20)
    assert command == str(job(tmp_path).command)
    assert arguments == f'run --config "{tmp_path / "my school" / "misbridge.toml"}"'


def test_next_run_is_tonight_or_tomorrow() -> None:
    schedule = Schedule(time(2, 30), 30)
    assert next_run(schedule, datetime(2026, 12, 1, 23, 0)) == (
        datetime(2026, 12, 2, 2, 30),
        datetime(2026, 12, 2, 3, 0),
    )
    assert next_run(schedule, datetime(2026, 12, 1, 1, 0))[0] == datetime(2026, 12, 1, 2, 30)
