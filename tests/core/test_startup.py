"""Start-up: what loading the plugins, the pipeline and the command line imports.

Each check runs in a fresh interpreter, so that nothing another test imported counts.
No timing here (bench/bench_startup.py measures); these say which modules are loaded:
a library extract and every command must not pay for the store, the vault, the hub,
Celery, openpyxl, graphql-core or any simulator until something uses them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.cli.lazy import LazyGroup, resolved
from misbridge.hookspecs import hookimpl
from misbridge.hooktypes import MisInfo
from misbridge.plugins import get_plugin_manager
from misbridge.session import MisPlugin, Session

from .toy_mis import ToyPlugin

#: Libraries only a command that uses them may import.
HEAVY = ("sqlalchemy", "alembic", "cryptography", "fastapi", "celery", "openpyxl", "graphql")
FIRST_PARTY = ("arbor", "bromcom", "sims", "spreadsheet", "wonde")


def _is_simulator(module: str) -> bool:
    parts = module.split(".")
    return parts[0].startswith("misbridge") and any(
        "simulat" in part or part.startswith("sim_") for part in parts[1:]
    )


def _fresh(code: str) -> dict[str, Any]:
    """Run ``code`` in a new interpreter; it leaves a dict in ``report``; the modules
    loaded afterwards are added as ``modules``."""
    script = (
        "import json, sys\n"
        + code
        + "\nreport['modules'] = sorted(sys.modules)\nprint(json.dumps(report))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MISBRIDGE_LOAD_PLUGINS"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_plugins_and_pipeline_load_nothing_heavy_and_no_simulator() -> None:
    report = _fresh(
        "import misbridge\n"
        "plugins = misbridge.get_plugin_manager()\n"
        "import misbridge.pipeline\n"
        "report = {\n"
        "    'mis': sorted(plugins.mis),\n"
        "    'errors': [e.error for e in plugins.load_errors],\n"
        "    'simulators': {n: callable(p.info.simulator) for n, p in plugins.mis.items()},\n"
        "}\n"
    )
    # Every first-party plugin loaded and described itself, simulator factory included:
    # a plugin that failed to load would import nothing, and pass for the wrong reason.
    assert set(FIRST_PARTY) <= set(report["mis"]), report["errors"]
    assert report["errors"] == []
    assert all(report["simulators"][mis] for mis in FIRST_PARTY)
    loaded = set(report["modules"])
    assert "misbridge.pipeline" in loaded
    assert [m for m in HEAVY if m in loaded] == []
    assert [m for m in loaded if _is_simulator(m)] == []
    # The sessions and command modules too: an extract imports only its own MIS's.
    assert [m for m in loaded if m.endswith((".session", ".cli")) and m[:10] == "misbridge_"] == []


def test_calling_the_simulator_factory_imports_the_simulator() -> None:
    report = _fresh(
        "import misbridge\n"
        "from misbridge.sample import sample_school\n"
        "info = misbridge.get_plugin_manager().info('wonde')\n"
        "before = 'misbridge_wonde.simulator' in sys.modules\n"
        "simulator = info.simulator(sample_school(students=5, staff=2))\n"
        "report = {'before': before, 'type': type(simulator).__name__}\n"
        "simulator.close()\n"
    )
    assert report["before"] is False
    assert report["type"] == "WondeSimulator"
    assert "misbridge_wonde.simulator" in report["modules"]


def _cli(*args: str) -> str:
    return (
        f"sys.argv = ['misbridge', *{list(args)!r}]\n"
        "from misbridge.cli import main\n"
        "report = {}\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    report['exit'] = exc.code\n"
    )


@pytest.mark.parametrize("args", [("--help",), ("plugins",), ("store", "--help")])
def test_the_command_line_imports_nothing_heavy_until_a_command_runs(
    args: tuple[str, ...],
) -> None:
    report = _fresh(_cli(*args))
    assert report["exit"] in (0, None)
    loaded = set(report["modules"])
    assert [m for m in HEAVY if m in loaded] == []
    assert [m for m in loaded if _is_simulator(m)] == []
    assert "misbridge.store" not in loaded and "misbridge.vault" not in loaded


def test_help_lists_every_plugin_group_without_building_one() -> None:
    report = _fresh(_cli("--help"))
    loaded = set(report["modules"])
    assert [m for m in loaded if m.startswith("misbridge_") and m.endswith(".cli")] == []
    assert "httpx" not in loaded


def test_a_plugin_group_lists_the_help_its_built_group_has() -> None:
    cli = build_cli()
    ctx = click.Context(cli)
    for mis in FIRST_PARTY:
        group = cli.get_command(ctx, mis)
        assert isinstance(group, LazyGroup), mis
        built = resolved(group)
        assert isinstance(built, click.Group) and not isinstance(built, LazyGroup)
        assert group.get_short_help_str() == built.get_short_help_str(), mis
        assert {"check", "extract"} <= set(group.list_commands(ctx)), mis


class _RaisingCommands:
    """A third-party plugin whose register_commands hook raises."""

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        raise RuntimeError("commands broken on purpose")


def _broken_cli_plugin() -> MisPlugin:
    info = MisInfo(name="acme", title="Acme", datasets=())
    return MisPlugin(info, Session, cli="no_such_module_anywhere.cli:group")


def test_a_plugin_whose_commands_cannot_be_built_fails_only_its_own_command() -> None:
    plugins = get_plugin_manager(
        load_entrypoints=False,
        plugins=[("toy", ToyPlugin()), ("acme", _broken_cli_plugin())],
    )
    runner = CliRunner()
    listed = runner.invoke(build_cli(plugins), ["--help"])
    assert listed.exit_code == 0, listed.output
    assert "acme" in listed.output and "Work with Acme." in listed.output
    own = runner.invoke(build_cli(plugins), ["acme", "--help"])
    assert own.exit_code == 1
    assert "'acme' commands could not be loaded" in own.output
    assert "no_such_module_anywhere" in own.output
    other = runner.invoke(build_cli(plugins), ["toy", "--help"])
    assert other.exit_code == 0, other.output


def test_misbridge_plugins_shows_a_group_that_cannot_be_built() -> None:
    plugins = get_plugin_manager(
        load_entrypoints=False,
        plugins=[("toy", ToyPlugin()), ("acme", _broken_cli_plugin())],
    )
    result = CliRunner().invoke(build_cli(plugins), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    errors = [row for row in json.loads(result.stdout) if row["error"]]
    assert [row["name"] for row in errors] == ["acme"]
    assert "no_such_module_anywhere" in errors[0]["error"]


def test_a_plugin_whose_register_commands_raises_never_stops_the_command_line() -> None:
    plugins = get_plugin_manager(
        load_entrypoints=False,
        plugins=[("toy", ToyPlugin()), ("raising", _RaisingCommands())],
    )
    runner = CliRunner()
    listed = runner.invoke(build_cli(plugins), ["plugins", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout) if row["error"]}
    assert "commands broken on purpose" in rows["raising"]["error"]
    toy = runner.invoke(build_cli(plugins), ["toy", "--help"])
    assert toy.exit_code == 0, toy.output
