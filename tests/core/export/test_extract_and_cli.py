"""Exports from an extract folder, and ``misbridge export ...`` through the real CLI."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from misbridge.cli import build_cli
from misbridge.export import (
    export_oneroster,
    read_package,
    roster_from_extract_folder,
    roster_from_store,
)
from misbridge.export.roster import EXTRACT_NAMESPACE
from misbridge.model import Dataset, Student
from misbridge.plugins import get_plugin_manager
from misbridge.store import Store
from tests.core.export import oneroster_spec, sds_spec
from tests.core.export.schools import ORG, TODAY, sample_extract
from tests.core.store.factory import school
from tests.core.store.test_commands import write_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(sample_extract(), tmp_path_factory.mktemp("extract") / "sims")


def _leaver() -> Student:
    (leaver,) = [
        s
        for s in sample_extract().of(Dataset.STUDENTS)
        if isinstance(s, Student) and s.leaving_date
    ]
    return leaver


def test_an_extract_folder_exports_with_ids_from_the_mis(folder: Path, tmp_path: Path) -> None:
    leaver = _leaver()
    assert leaver.leaving_date is not None
    roster = roster_from_extract_folder(folder, today=leaver.leaving_date)
    result = export_oneroster(roster, tmp_path / "a", **ORG)
    assert oneroster_spec.validate(result.zip_path.read_bytes(), "1.2") == []
    again = export_oneroster(
        roster_from_extract_folder(folder, today=leaver.leaving_date), tmp_path / "b", **ORG
    )
    assert again.zip_path.read_bytes() == result.zip_path.read_bytes()
    namespace = uuid.uuid5(EXTRACT_NAMESPACE, "extract:sims")
    users = {u["sourcedId"] for u in read_package(result.zip_path)["users.csv"]}
    assert (
        str(uuid.uuid5(namespace, f"student:{leaver.mis_id}")) in users
    )  # leaves today: not yet left
    # The day after their leaving date the leaver is no longer on roll.
    later = roster_from_extract_folder(folder, today=leaver.leaving_date + timedelta(days=1))
    gone = export_oneroster(later, tmp_path / "c", **ORG)
    later_users = {u["sourcedId"] for u in read_package(gone.zip_path)["users.csv"]}
    assert users - later_users == {str(uuid.uuid5(namespace, f"student:{leaver.mis_id}"))}


def _content(path: Path) -> dict[str, set[tuple[str, ...]]]:
    """A package without its identifiers: what a person would read in it."""
    files = read_package(path)
    users = {u["sourcedId"]: u["identifier"] for u in files["users.csv"]}
    classes = {c["sourcedId"]: c["title"] for c in files["classes.csv"]}
    return {
        "users": {
            (u["identifier"], u["givenName"], u["familyName"], u["email"], u["grades"])
            for u in files["users.csv"]
        },
        "classes": {
            (c["title"], c["classType"], c["subjects"], c["grades"]) for c in files["classes.csv"]
        },
        "enrollments": {
            (
                classes[e["classSourcedId"]],
                users[e["userSourcedId"]],
                e["role"],
                e["beginDate"],
                e["endDate"],
            )
            for e in files["enrollments.csv"]
        },
    }


def test_the_store_and_the_extract_give_the_same_roster(
    synced: Store, folder: Path, tmp_path: Path
) -> None:
    from_store = export_oneroster(roster_from_store(synced), tmp_path / "store", **ORG)
    from_folder = export_oneroster(
        roster_from_extract_folder(folder, today=TODAY), tmp_path / "extract", **ORG
    )
    assert _content(from_store.zip_path) == _content(from_folder.zip_path)


# -- the command line -------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        build_cli(get_plugin_manager(load_entrypoints=False)), ["export", *args], env=env
    )


def test_cli_oneroster_from_the_store(synced: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(
        "oneroster", "--out", str(out), "--org-name", "Hollowfield Academy",
        "--org-identifier", "8014321", "--version", "1.1",
        env={"MISBRIDGE_STORE": synced.url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "oneroster-1.1.zip" in result.output and "2 records left out" in result.output
    package = (out / "oneroster-1.1.zip").read_bytes()
    assert oneroster_spec.validate(package, "1.1") == []
    (org,) = read_package(out / "oneroster-1.1.zip")["orgs.csv"]
    assert org["identifier"] == "8014321"


def test_cli_sds_from_an_extract_folder_as_json(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "sds"
    result = _run(
        "sds",
        "--out",
        str(out),
        "--org-name",
        "Hollowfield Academy",
        "--extract",
        str(folder),
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["format"] == "SDS v2.1" and summary["zip"] == "sds-v2.1.zip"
    assert summary["files"]["users.csv"] > 100
    assert sds_spec.validate((out / "sds-v2.1.zip").read_bytes()) == []


def test_cli_refuses_a_wrong_identifier_and_two_sources(folder: Path, tmp_path: Path) -> None:
    bad = _run(
        "oneroster", "--out", str(tmp_path), "--org-name", "X", "--org-identifier", "HOLLOW1"
    )
    assert bad.exit_code == 2 and "URN (6 digits) or its LAESTAB (7 digits" in bad.output
    both = _run(
        "oneroster", "--out", str(tmp_path), "--org-name", "X", "--org-identifier", "140321",
        "--store", "sqlite:///x.db", "--extract", str(folder),
    )  # fmt: skip
    assert both.exit_code == 2 and "either --store or --extract" in both.output
    blank = _run("sds", "--out", str(tmp_path), "--org-name", "  ", "--extract", str(folder))
    assert blank.exit_code == 2 and "school's name" in blank.output
    assert not (tmp_path / "sds-v2.1.zip").exists()


def test_cli_explains_an_unreadable_source(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _run("sds", "--out", str(tmp_path / "o"), "--org-name", "X", "--extract", str(empty))
    assert result.exit_code == 1 and "not an extract folder (no summary.json)" in result.output
    missing = f"sqlite:///{tmp_path / 'no' / 'such' / 'misbridge.db'}"
    result = _run("sds", "--out", str(tmp_path / "o"), "--org-name", "X", "--store", missing)
    assert result.exit_code == 1 and "does not exist" in result.output


def test_the_export_commands_are_a_command_plugin() -> None:
    plugins = get_plugin_manager(load_entrypoints=False)
    result = CliRunner().invoke(build_cli(plugins), ["plugins", "--json", "--all"])
    assert result.exit_code == 0, result.output
    (row,) = [r for r in json.loads(result.output) if r["name"] == "misbridge.cli.export"]
    assert row["hooks"] == ["register_commands"] and row["error"] is None


def test_cli_academic_year_for_an_mis_that_sends_none(store: Store, tmp_path: Path) -> None:
    result = school(range(6))
    del result.records[Dataset.YEARS], result.outcomes[Dataset.YEARS]
    store.sync(result, today=TODAY)
    env = {"MISBRIDGE_STORE": store.url}
    base = ("sds", "--org-name", "Hollowfield Academy")
    without = _run(*base, "--out", str(tmp_path / "a"), "--json", env=env)
    assert json.loads(without.output)["files"]["academicSessions.csv"] == 0
    given = _run(
        *base, "--out", str(tmp_path / "b"), "--academic-year", "2026-09-01:2027-07-31", env=env
    )
    assert given.exit_code == 0, given.output
    files = read_package(tmp_path / "b" / "sds-v2.1.zip")
    (year,) = files["academicSessions.csv"]
    assert {c["sessionSourcedIds"] for c in files["classes.csv"]} == {year["sourcedId"]}
    wrong = _run(
        *base, "--out", str(tmp_path / "c"), "--academic-year", "2027-07-31:2026-09-01", env=env
    )
    assert wrong.exit_code == 2 and "ends before it starts" in wrong.output
    bad = _run(*base, "--out", str(tmp_path / "c"), "--academic-year", "2026/2027", env=env)
    assert bad.exit_code == 2 and "YYYY-MM-DD:YYYY-MM-DD" in bad.output


def test_cli_says_when_the_given_academic_year_is_not_needed(synced: Store, tmp_path: Path) -> None:
    result = _run(
        "sds", "--out", str(tmp_path), "--org-name", "Hollowfield Academy", "--json",
        "--academic-year", "2030-09-01:2031-07-31", env={"MISBRIDGE_STORE": synced.url},
    )  # fmt: skip
    assert result.exit_code == 0 and "--academic-year was not needed" in result.stderr
    assert json.loads(result.stdout)["files"]["academicSessions.csv"] == 2  # JSON stays clean
    titles = {a["title"] for a in read_package(tmp_path / "sds-v2.1.zip")["academicSessions.csv"]}
    assert "2030/2031" not in titles
