"""``misbridge <mis> simulate``: an MIS plugin's simulator served on this machine.

An HTTP simulator is served on a loopback port; a program simulator (SIMS's
CommandReporter stand-in) is installed in a temporary folder. Either way the command
prints the settings and credentials that reach it, ready to paste into ``check`` and
``extract``, and serves a generated sample school (no real data) until stopped.
"""

from __future__ import annotations

import shlex
import time

import click

from misbridge.hooktypes import MisInfo
from misbridge.printable import clean

__all__ = ["serve_simulator"]


def _command(info: MisInfo, settings: dict[str, str], credentials: dict[str, str]) -> str:
    env = {f.env: credentials[f.name] for f in info.credentials if credentials.get(f.name)}
    known = {s.name for s in info.settings}
    flags = " ".join(
        f"--{name.replace('_', '-')} {shlex.quote(value)}"
        for name, value in settings.items()
        if name in known
    )
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"{assignments} misbridge {info.name} extract {flags} --out OUT".strip()


def serve_simulator(
    info: MisInfo, *, port: int, students: int, staff: int, seed: int, seconds: float
) -> None:
    from misbridge.sample import sample_school
    from misbridge.simulation import reachable

    if info.simulator is None:  # pragma: no cover - the command is only added with one
        raise click.ClickException(f"{info.name} has no simulator")
    simulator = info.simulator(sample_school(seed=seed, students=students, staff=staff))
    try:
        with reachable(simulator, port=port) as source:
            where = "on a loopback port" if simulator.app is not None else "on this machine"
            _announce(info, dict(source.settings), dict(source.credentials), where)
            _wait(seconds)
    finally:
        simulator.close()


def _announce(
    info: MisInfo, settings: dict[str, str], credentials: dict[str, str], where: str
) -> None:
    click.echo(f"Simulated {info.title} {where}: a generated sample school, no real data.")
    click.echo("Settings:")
    for name, value in settings.items():
        click.echo(f"  {name} = {clean(value)}")
    click.echo("Credentials (the simulator's own, for trying the commands):")
    for name, value in credentials.items():
        click.echo(f"  {name} = {clean(value)}")
    click.echo("Try:")
    click.echo(f"  {_command(info, settings, credentials)}")
    click.echo("Stop with Ctrl-C.")


def _wait(seconds: float) -> None:
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
