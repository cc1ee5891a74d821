"""``misbridge schedule install|show|remove``: run ``misbridge run`` every night.

``--systemd`` (Linux; the default there) writes ``misbridge.service`` and
``misbridge.timer`` into the user's unit folder (``--system``: /etc/systemd/system) and
enables the timer; ``--cron`` adds a tagged line to this user's crontab; ``--windows``
registers a Task Scheduler task with ``schtasks /Create /XML``. ``--print`` shows what
would be installed and installs nothing. The time and random delay come from the
configuration file's ``[schedule]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from misbridge.errors import MisbridgeError

if TYPE_CHECKING:
    from misbridge.jobs.config import Schedule
    from misbridge.jobs.schedule import NightlyJob

__all__ = ["schedule_group"]


def _kind(systemd: bool, cron: bool, windows: bool) -> str:
    chosen = [k for k, on in (("systemd", systemd), ("cron", cron), ("windows", windows)) if on]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --systemd, --cron and --windows")
    if chosen:
        return chosen[0]
    return "windows" if os.name == "nt" else "systemd" if shutil.which("systemctl") else "cron"


def _unit_dir(system: bool, given: Path | None) -> Path:
    if given is not None:
        return given
    if system:
        return Path("/etc/systemd/system")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _job(config_path: Path | None) -> NightlyJob:
    from misbridge.cli.run_command import default_config_path
    from misbridge.jobs.config import load_config
    from misbridge.jobs.schedule import NightlyJob

    path = (config_path or default_config_path()).resolve()
    config = load_config(path)
    program = shutil.which("misbridge") or sys.argv[0]
    return NightlyJob(Path(program).resolve(), path, config.schedule, path.parent)


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)


def _crontab() -> str:
    found = _run(["crontab", "-l"])
    return found.stdout if found.returncode == 0 else ""


def _without_ours(table: str, config: Path) -> str:
    from misbridge.jobs.schedule import CRON_TAG

    lines, skip = [], False
    for line in table.splitlines():
        if line == f"{CRON_TAG} {config}":
            skip = True
            continue
        if skip:
            skip = False
            continue
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file the nightly run uses.",
)
F = TypeVar("F", bound=Callable[..., Any])


def kind_options(func: F) -> F:
    for option in reversed(
        [
            click.option("--systemd", is_flag=True, help="A systemd timer (Linux)."),
            click.option("--cron", is_flag=True, help="A line in this user's crontab."),
            click.option("--windows", is_flag=True, help="A Windows Task Scheduler task."),
            click.option("--system", is_flag=True, help="systemd: a system unit, not the user's."),
            click.option(
                "--unit-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="systemd: write the units here.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.group("schedule")
def schedule_group() -> None:
    """Install, show or remove the nightly run of misbridge run."""


@schedule_group.command("install")
@config_option
@kind_options
@click.option("--print", "print_only", is_flag=True, help="Show it; install nothing.")
@click.option("--no-enable", is_flag=True, help="systemd: write the units, do not enable.")
def install_command(
    config_path: Path | None,
    systemd: bool,
    cron: bool,
    windows: bool,
    system: bool,
    unit_dir: Path | None,
    print_only: bool,
    no_enable: bool,
) -> None:
    """Run misbridge run every night at the configuration's [schedule] time."""
    from misbridge.jobs import schedule as formats

    try:
        job = _job(config_path)
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None
    kind = _kind(systemd, cron, windows)
    if kind == "systemd":
        units = formats.systemd_units(job)
        if print_only:
            for name, text in units.items():
                click.echo(f"# {name}\n{text}")
            return
        folder = _unit_dir(system, unit_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in units.items():
            (folder / name).write_text(text, encoding="utf-8")
            click.echo(f"Wrote {folder / name}")
        if not no_enable and shutil.which("systemctl"):
            scope = [] if system else ["--user"]
            for args in (["daemon-reload"], ["enable", "--now", f"{formats.UNIT_NAME}.timer"]):
                done = _run(["systemctl", *scope, *args])
                if done.returncode != 0:
                    raise click.ClickException(
                        f"systemctl {' '.join(args)} failed: {done.stderr.strip()}"
                    )
            click.echo(f"Enabled {formats.UNIT_NAME}.timer")
    elif kind == "cron":
        line = formats.cron_line(job)
        if print_only:
            click.echo(line, nl=False)
            return
        table = _without_ours(_crontab(), job.config) + line
        done = _run(["crontab", "-"], stdin=table)
        if done.returncode != 0:
            raise click.ClickException(f"crontab refused the line: {done.stderr.strip()}")
        click.echo("Added the nightly run to this user's crontab.")
    else:
        text = formats.task_xml(job, datetime.now())
        if print_only or os.name != "nt":
            click.echo(text, nl=False)
            if not print_only:
                click.echo(
                    "This is not Windows: save the XML and register it there with "
                    "schtasks /Create /TN misbridge /XML FILE",
                    err=True,
                )
            return
        path = Path(os.environ.get("TEMP", ".")) / "misbridge-task.xml"
        path.write_text(text, encoding="utf-8")
        done = _run(["schtasks", "/Create", "/TN", formats.UNIT_NAME, "/XML", str(path), "/F"])
        path.unlink(missing_ok=True)
        if done.returncode != 0:
            raise click.ClickException(f"schtasks failed: {done.stderr.strip()}")
        click.echo("Registered the Task Scheduler task 'misbridge'.")
    _echo_next(job.schedule)


def _echo_next(schedule: Schedule) -> None:
    from misbridge.jobs.schedule import next_run

    earliest, latest = next_run(schedule, datetime.now())
    click.echo(f"Next run: between {earliest:%Y-%m-%d %H:%M} and {latest:%H:%M} (local time).")


@schedule_group.command("show")
@config_option
@kind_options
def show_command(
    config_path: Path | None,
    systemd: bool,
    cron: bool,
    windows: bool,
    system: bool,
    unit_dir: Path | None,
) -> None:
    """Print the installed nightly run and when it runs next."""
    from misbridge.jobs import schedule as formats

    kind = _kind(systemd, cron, windows)
    try:
        if kind == "systemd":
            timer = _unit_dir(system, unit_dir) / f"{formats.UNIT_NAME}.timer"
            if not timer.exists():
                raise click.ClickException(f"no nightly run is installed ({timer} is absent)")
            text = timer.read_text(encoding="utf-8")
            click.echo(f"{timer}:\n{text}")
            _echo_next(formats.parse_timer(text))
        elif kind == "cron":
            lines = _crontab().splitlines()
            found = [
                lines[i + 1]
                for i, line in enumerate(lines[:-1])
                if line.startswith(formats.CRON_TAG)
            ]
            if not found:
                raise click.ClickException("no nightly run is in this user's crontab")
            for line in found:
                click.echo(line)
                _echo_next(formats.parse_cron_line(line)[0])
        else:
            done = _run(["schtasks", "/Query", "/TN", formats.UNIT_NAME, "/XML"])
            if done.returncode != 0:
                raise click.ClickException("no Task Scheduler task 'misbridge' is registered")
            click.echo(done.stdout)
            _echo_next(formats.parse_task_xml(done.stdout)[0])
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


@schedule_group.command("remove")
@config_option
@kind_options
def remove_command(
    config_path: Path | None,
    systemd: bool,
    cron: bool,
    windows: bool,
    system: bool,
    unit_dir: Path | None,
) -> None:
    """Remove the nightly run installed by misbridge schedule install."""
    from misbridge.jobs import schedule as formats

    kind = _kind(systemd, cron, windows)
    if kind == "systemd":
        folder = _unit_dir(system, unit_dir)
        if shutil.which("systemctl") and unit_dir is None:
            scope = [] if system else ["--user"]
            _run(["systemctl", *scope, "disable", "--now", f"{formats.UNIT_NAME}.timer"])
        for name in (f"{formats.UNIT_NAME}.timer", f"{formats.UNIT_NAME}.service"):
            path = folder / name
            if path.exists():
                path.unlink()
                click.echo(f"Removed {path}")
    elif kind == "cron":
        from misbridge.cli.run_command import default_config_path

        config = (config_path or default_config_path()).resolve()
        done = _run(["crontab", "-"], stdin=_without_ours(_crontab(), config))
        if done.returncode != 0:
            raise click.ClickException(f"crontab failed: {done.stderr.strip()}")
        click.echo("Removed the nightly run from this user's crontab.")
    else:
        done = _run(["schtasks", "/Delete", "/TN", formats.UNIT_NAME, "/F"])
        if done.returncode != 0:
            raise click.ClickException(f"schtasks failed: {done.stderr.strip()}")
        click.echo("Removed the Task Scheduler task 'misbridge'.")
