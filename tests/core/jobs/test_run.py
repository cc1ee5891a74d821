"""``misbridge.run`` and ``misbridge run``: one sequence for every caller, the lock, the
configuration file, and what a user meets going wrong (message and exit code)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import misbridge
from misbridge import hookimpl
from misbridge.cli import build_cli
from misbridge.errors import ConfigurationError, RecordError, RunLocked
from misbridge.jobs import SchoolConfig, load_config, run
from misbridge.jobs.lock import run_lock
from misbridge.model import Dataset
from misbridge.plugins import get_plugin_manager
from misbridge.sample import sample_school
from misbridge.simulation import Fault, serve_loopback
from misbridge.store import open_store
from tests.core.store.factory import rows
from tests.core.test_plugins import _make_dist
from tests.core.toy_mis import TOKEN, ToyPlugin, ToySimulator

ROOT = Path(__file__).resolve().parents[3]


class Recorder:
    """A ``report_errors`` plugin keeping what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[RecordError], dict[str, Any]]] = []

    @hookimpl
    def report_errors(self, errors: list[RecordError], summary: dict[str, Any]) -> None:
        self.calls.append((list(errors), dict(summary)))


def toy_plugins(recorder: Recorder | None = None) -> Any:
    extra = [("toy", ToyPlugin())] + ([("recorder", recorder)] if recorder else [])
    return get_plugin_manager(load_entrypoints=False, plugins=extra)


def _files(folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".jsonl":
            found[path.name] = sorted(path.read_text().splitlines())
        elif path.name == "summary.json":
            summary = json.loads(path.read_text())
            found[path.name] = {k: summary[k] for k in ("datasets", "errors", "status", "sync")}
    return found


def test_a_library_caller_gets_what_the_command_line_gets(tmp_path: Path) -> None:
    school = sample_school(students=40, staff=5)
    simulator = ToySimulator(school)
    with serve_loopback(simulator.app) as url:
        cli_recorder, lib_recorder = Recorder(), Recorder()
        cli_store = f"sqlite:///{tmp_path / 'cli.db'}"
        result = CliRunner().invoke(
            build_cli(toy_plugins(cli_recorder)),
            [
                "toy",
                "extract",
                "--base-url",
                url,
                "--out",
                str(tmp_path / "cli"),
                "--store",
                cli_store,
            ],
            env={"MISBRIDGE_TOY_TOKEN": TOKEN},
        )
        assert result.exit_code == 0, result.output
        lib_store = f"sqlite:///{tmp_path / 'lib.db'}"
        library = misbridge.run(
            "toy",
            settings={"base_url": url},
            credentials={"token": TOKEN},
            store=lib_store,
            out=tmp_path / "lib",
            pm=toy_plugins(lib_recorder),
        )
    assert library.exit_code == 0 and library.applied
    cli_files, lib_files = _files(tmp_path / "cli"), _files(tmp_path / "lib")
    assert cli_files.keys() == lib_files.keys()
    for name in cli_files:
        if name != "summary.json":
            assert cli_files[name] == lib_files[name], name
    assert cli_files["summary.json"]["datasets"] == lib_files["summary.json"]["datasets"]
    assert (
        cli_files["summary.json"]["sync"]["counts"] == lib_files["summary.json"]["sync"]["counts"]
    )

    def stored(url: str) -> list[tuple[Any, ...]]:
        with open_store(url) as store:
            return sorted(
                (str(r["admission_number"]), r["enabled"]) for r in rows(store, "student")
            )

    assert stored(cli_store) == stored(lib_store)
    (cli_call,), (lib_call,) = cli_recorder.calls, lib_recorder.calls
    assert sorted(e.as_dict()["code"] for e in cli_call[0]) == sorted(
        e.as_dict()["code"] for e in lib_call[0]
    )
    assert cli_call[1]["sync"]["counts"] == lib_call[1]["sync"]["counts"]


def test_a_second_run_of_the_school_is_refused_naming_the_holder(tmp_path: Path) -> None:
    simulator = ToySimulator(sample_school(students=20, staff=3))
    source = simulator.source()
    config = SchoolConfig(name="oakfield", mis="toy", settings=dict(source.settings), store=None)
    with run_lock("oakfield"), pytest.raises(RunLocked) as locked:
        run(config, credentials=source.credentials, transport=source.transport, pm=toy_plugins())
    assert f"process {os.getpid()}" in str(locked.value)
    assert locked.value.holder["school"] == "oakfield"
    # Released: the next night runs.
    result = run(
        config, credentials=source.credentials, transport=source.transport, pm=toy_plugins()
    )
    assert result.exit_code == 0


def test_the_command_line_says_locked_with_its_own_exit_code(tmp_path: Path) -> None:
    config = tmp_path / "misbridge.toml"
    config.write_text('store = ""\n[[school]]\nname = "oakfield"\nmis = "toy"\n')
    with run_lock("oakfield"):
        result = CliRunner().invoke(build_cli(toy_plugins()), ["run", "--config", str(config)])
    assert result.exit_code == 5
    assert "another misbridge run holds its lock" in result.output


# -- the configuration file -----------------------------------------------------------------
def _example() -> str:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    # The worked example is the page's first TOML block.
    return str(re.findall(r"```toml\n(.*?)```", text, re.S)[0])


def test_the_documented_example_runs_as_written(tmp_path: Path) -> None:
    from misbridge_wonde.simulator import simulate

    block = _example()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", block)[1])  # type: ignore[index]
    (tmp_path / "misbridge.toml").write_text(block, encoding="utf-8")
    sim = simulate(sample_school(students=60))
    with serve_loopback(sim.app, port=port):
        token = re.search(
            r"MISBRIDGE_WONDE_TOKEN=(\S+)", (ROOT / "docs/configuration.md").read_text()
        )[1]  # type: ignore[index]
        done = subprocess.run(
            [sys.executable, "-m", "misbridge", "run"],
            cwd=tmp_path,
            env={**os.environ, "MISBRIDGE_WONDE_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "extracts" / "hollowfield" / "report.html").is_file()
    assert (tmp_path / "misbridge.db").is_file()
    assert "status=complete" in done.stdout  # plain lines: stdout is not a terminal
    assert "\u2501" not in done.stdout and "\u2503" not in done.stdout  # no tables


@pytest.mark.parametrize(
    ("where", "key", "suggested"),
    [("settings", "per_pgae", "per_page"), ("settings", "incremantal", "incremental")],
)
def test_a_misspelt_setting_is_an_error_with_a_suggestion(
    tmp_path: Path, where: str, key: str, suggested: str
) -> None:
    block = _example().replace('paging = "cursor"', f'{key} = "1"')
    path = tmp_path / "misbridge.toml"
    path.write_text(block)
    config = load_config(path)  # the keys of [school.settings] are the plugin's to check
    with pytest.raises(ConfigurationError, match=f"did you mean '{suggested}'") as raised:
        run(config.school(), credentials={"token": "x"})
    assert "school hollowfield" in str(raised.value)
    # The library says the same.
    with pytest.raises(ConfigurationError, match=f"did you mean '{suggested}'") as library:
        misbridge.extract(
            "wonde", settings={"school_id": "A1", key: "1"}, credentials={"token": "x"}
        )
    assert str(library.value).startswith(f"unknown wonde setting {key!r}; did you mean")


def test_a_misspelt_key_of_the_file_names_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "misbridge.toml"
    path.write_text(_example().replace("store =", "stroe ="))
    with pytest.raises(ConfigurationError, match="did you mean 'store'"):
        load_config(path)
    path.write_text(_example().replace("[guard]", "[guard]\ncumulative_dayz = 3"))
    with pytest.raises(ConfigurationError, match="did you mean 'cumulative_days'"):
        load_config(path)


# -- what a user meets going wrong ----------------------------------------------------------
def _toy_cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    simulator = ToySimulator(sample_school(students=20, staff=3))
    with serve_loopback(simulator.app) as url:
        result = CliRunner().invoke(
            build_cli(toy_plugins()),
            ["toy", "extract", "--base-url", url, *args],
            env={"MISBRIDGE_TOY_TOKEN": TOKEN},
        )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_bad_output_folders_are_named_before_anything_runs(tmp_path: Path) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("")
    code, output = _toy_cli(tmp_path, "--out", str(a_file))
    assert code == 1 and "is a file, not a folder" in output
    if Path("/sys").is_dir():
        code, output = _toy_cli(tmp_path, "--out", "/sys/misbridge-x")
        assert code == 1 and "cannot write the extract to /sys/misbridge-x" in output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:////sys/misbridge-x.db", "cannot create the store /sys/misbridge-x.db"),
        ("sqllite:///x.db", "did you mean 'sqlite'"),
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_here",
            'database "no_such_database_here" does not exist',
        ),
        (
            "postgresql+psycopg://no_such_role:pw-Secret9@127.0.0.1:5432/test",
            'role "no_such_role" does not exist',
        ),
    ],
)
def test_a_bad_store_is_named_with_its_reason_before_the_extract(
    tmp_path: Path, url: str, says: str
) -> None:
    if url.startswith("postgresql"):
        from tests.core.store.conftest import require_pg

        require_pg()
    simulator = ToySimulator(sample_school(students=20, staff=3))
    with serve_loopback(simulator.app) as base:
        result = CliRunner().invoke(
            build_cli(toy_plugins()),
            ["toy", "extract", "--base-url", base, "--out", str(tmp_path / "o"), "--store", url],
            env={"MISBRIDGE_TOY_TOKEN": TOKEN},
        )
    assert result.exit_code == 1, result.output
    assert says in result.output
    assert "pw-Secret9" not in result.output
    assert simulator.requests == 0  # nothing was extracted first


def test_a_bad_number_setting_is_a_clear_error(tmp_path: Path) -> None:
    plugins = get_plugin_manager(load_entrypoints=True)
    result = CliRunner().invoke(
        build_cli(plugins),
        ["wonde", "extract", "--school-id", "A1", "--http-concurrency", "lots"],
        env={"MISBRIDGE_WONDE_TOKEN": "x"},
    )
    assert result.exit_code == 1
    assert "the setting 'http_concurrency' for wonde must be a whole number, not 'lots'" in (
        result.output
    )


def test_an_unreachable_host_fails_at_once_naming_it() -> None:
    plugins = toy_plugins()
    result = CliRunner().invoke(
        build_cli(plugins),
        ["toy", "extract", "--base-url", "http://127.0.0.1:9"],
        env={"MISBRIDGE_TOY_TOKEN": TOKEN},
    )
    assert result.exit_code == 1
    assert "cannot connect to 127.0.0.1:9: the connection was refused" in result.output
    assert "stamina" not in result.output


def test_a_run_where_every_dataset_failed_does_not_say_no_record_has_a_problem(
    tmp_path: Path,
) -> None:
    faults = [Fault("status", match="/data/", status=403, times=999)]
    simulator = ToySimulator(sample_school(students=20, staff=3), faults=faults)
    source = simulator.source()
    with serve_loopback(simulator.app) as url:
        result = CliRunner().invoke(
            build_cli(toy_plugins()),
            ["toy", "extract", "--base-url", url],
            env={"MISBRIDGE_TOY_TOKEN": TOKEN},
        )
    assert result.exit_code == 1, result.output
    assert "No record has a problem" not in result.output
    assert source.settings  # the simulator was reached


def test_since_needs_a_time_zone_and_accepts_the_documented_form(tmp_path: Path) -> None:
    code, output = _toy_cli(tmp_path, "--since", "2026-11-01T00:00")
    assert code == 2 and "has no time zone" in output and "2026-11-01T00:00Z" in output
    code, output = _toy_cli(tmp_path, "--since", "2026-11-01T00:00Z")
    assert code == 0, output


def test_plugins_json_is_json_even_when_a_plugin_fails_to_load(tmp_path: Path) -> None:
    _make_dist(
        tmp_path,
        "misbridge-broken",
        "[misbridge]\nbroken = broken_plugin\n",
        {"broken_plugin": "import no_such_module_anywhere\n"},
    )
    done = subprocess.run(
        [sys.executable, "-m", "misbridge", "plugins", "--json"],
        env={
            **os.environ,
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows_ = {row["name"]: row for row in json.loads(done.stdout)}
    assert "no_such_module_anywhere" in rows_["broken"]["error"]


def test_the_library_is_quiet_until_logging_is_configured(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import misbridge
        from misbridge.sample import sample_school
        from misbridge_wonde.simulator import simulate
        sim = simulate(sample_school(students=20, staff=3))
        source = sim.source()
        result = misbridge.extract("wonde", settings=source.settings,
                                   credentials=source.credentials, transport=source.transport)
        assert result.ok
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_version_and_help_load_no_store_or_mis_client() -> None:
    probe = textwrap.dedent(
        """
        import sys
        from misbridge.cli import build_cli
        try:
            build_cli()(["--version"], prog_name="misbridge")
        except SystemExit:
            pass
        heavy = [m for m in ("sqlalchemy", "alembic", "misbridge_wonde", "httpx")
                 if m in sys.modules]
        print("HEAVY", heavy)
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    helped = subprocess.run(
        [sys.executable, "-c", probe.replace('["--version"]', '["--help"]')],
        capture_output=True,
        text=True,
        timeout=60,
    )
    heavy = helped.stdout.split("HEAVY", 1)[1]
    assert "sqlalchemy" not in heavy and "alembic" not in heavy, helped.stdout


@pytest.mark.parametrize("mis", ["wonde", "arbor", "bromcom", "sims"])
def test_every_mis_can_be_simulated_from_the_command_line(mis: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "misbridge",
            mis,
            "simulate",
            "--students",
            "20",
            "--seconds",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"misbridge {mis} extract" in done.stdout
    assert "Credentials" in done.stdout


def test_the_command_reference_is_current() -> None:
    from misbridge.cli.reference import render

    doc = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert render() == doc, "regenerate: python -m misbridge.cli.reference > docs/cli-reference.md"


def test_decommission_lists_and_erases_the_data_runs_left(tmp_path: Path) -> None:
    simulator = ToySimulator(sample_school(students=20, staff=3))
    source = simulator.source()
    store = tmp_path / "school.db"
    out = tmp_path / "extract"
    result = run(
        "toy",
        settings=dict(source.settings),
        credentials=source.credentials,
        transport=source.transport,
        store=f"sqlite:///{store}",
        out=out,
        pm=toy_plugins(),
    )
    assert result.applied and store.exists() and out.is_dir()
    listed = CliRunner().invoke(build_cli(toy_plugins()), ["decommission", "--yes"])
    assert listed.exit_code == 0, listed.output
    assert str(store) in listed.output and str(out) in listed.output
    assert store.exists() and out.exists()  # listed, kept without --erase-data
    result = run(
        "toy",
        settings=dict(source.settings),
        credentials=source.credentials,
        transport=source.transport,
        store=f"sqlite:///{store}",
        out=out,
        pm=toy_plugins(),
    )
    erased = CliRunner().invoke(build_cli(toy_plugins()), ["decommission", "--yes", "--erase-data"])
    assert erased.exit_code == 0, erased.output
    assert not store.exists() and not out.exists()
    assert Dataset.STUDENTS  # the run had read them
