"""``misbridge bromcom ...`` against the simulator on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.model import Dataset
from misbridge.simulation import serve_loopback
from misbridge.source import SourceSchool
from misbridge.testing.conformance import expected_result
from misbridge_bromcom.simulator import BromcomSimulator, simulate

ENV = "MISBRIDGE_BROMCOM_"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))
    for name in ("APPLICATION_SECRET", "USERNAME", "PASSWORD", "MODE", "SCHOOL_ID"):
        monkeypatch.delenv(ENV + name, raising=False)
    return tmp_path


def options(sim: BromcomSimulator, url: str) -> list[str]:
    out: list[str] = []
    for name, value in sim.source(url).settings.items():
        out += [f"--{name.replace('_', '-')}", value]
    return out


@pytest.fixture
def served(school: SourceSchool) -> Iterator[tuple[BromcomSimulator, str]]:
    sim = simulate(school, deny=[Dataset.EXAM_RESULTS])
    with serve_loopback(sim.app) as url:
        yield sim, url


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    wide = {"COLUMNS": "250", **env}  # rich tables would otherwise cut names short
    result = CliRunner().invoke(build_cli(), args, env=wide, catch_exceptions=False)
    return result.exit_code, result.output


def test_wire_names_lists_every_name_and_how_we_know_it(home: Path) -> None:
    code, out = invoke(["bromcom", "wire-names", "--mode", "soap"], {})
    assert code == 0
    assert "PersonPhotos" in out and "AssociationAssessmentResults" in out
    assert "verified" in out and "unknown" in out


def test_check_names_the_entity_to_tick(home: Path, served: tuple[BromcomSimulator, str]) -> None:
    sim, url = served
    secret = sim.source().credentials["application_secret"]
    code, out = invoke(
        ["bromcom", "check", *options(sim, url)], {ENV + "APPLICATION_SECRET": secret}
    )
    assert code == 3, out  # one dataset lacks a permission
    assert "AssociationAssessmentResults" in out
    assert secret not in out


def test_legacy_mode_asks_for_the_login_not_the_application_secret(
    home: Path, served: tuple[BromcomSimulator, str]
) -> None:
    sim, url = served
    creds = sim.source().credentials
    login = {ENV + "USERNAME": creds["username"], ENV + "PASSWORD": creds["password"]}
    code, out = invoke(["bromcom", "check", "--mode", "soap", *options(sim, url)], login)
    assert code == 3, out
    assert "AssociationAssessmentResults" in out
    assert creds["password"] not in out

    code, out = invoke(
        ["bromcom", "check", "--mode", "soap", *options(sim, url)],
        {ENV + "USERNAME": creds["username"]},
    )
    assert code == 1
    assert "password" in out and "application_secret" not in out


def test_extract_writes_the_school(
    home: Path, served: tuple[BromcomSimulator, str], school: SourceSchool
) -> None:
    sim, url = served
    creds = sim.source().credentials
    out_dir = home / "out"
    code, out = invoke(
        ["bromcom", "extract", "--mode", "soap", "--out", str(out_dir), *options(sim, url)],
        {ENV + "USERNAME": creds["username"], ENV + "PASSWORD": creds["password"]},
    )
    assert code == 0, out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["mis"] == "bromcom" and summary["ok"] is True
    students = (out_dir / "students.jsonl").read_text().splitlines()
    accepted = summary["datasets"]["students"]["records"]
    # The legacy mode carries every student field: the shared code's verdict on the
    # school itself is what must have been written.
    want = expected_result("bromcom", school, [Dataset.STUDENTS]).of(Dataset.STUDENTS)
    assert len(students) == accepted == len(want) < len(school.students)
    written = "\n".join(p.read_text() for p in out_dir.iterdir())
    assert creds["password"] not in written


def test_an_unknown_mode_is_refused(home: Path, served: tuple[BromcomSimulator, str]) -> None:
    sim, url = served
    code, out = invoke(["bromcom", "check", "--mode", "odata", *options(sim, url)], {})
    assert code == 1 and "partner" in out and "soap" in out
