"""``misbridge plugin new NAME``: start a new MIS plugin (see :mod:`misbridge.scaffold`)."""

from __future__ import annotations

from pathlib import Path

import click

from misbridge.cli_kit import fail
from misbridge.errors import MisbridgeError

__all__ = ["plugin_group"]


@click.group("plugin")
def plugin_group() -> None:
    """Write MIS plugins: a new package that passes the conformance suite from the start."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--title", help="How people name the MIS (default: from NAME).")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Where the package folder is made.",
)
def new_command(name: str, title: str | None, folder: Path) -> None:
    """Generate the package misbridge-NAME: its MIS description, settings, a session with
    every hook, a mapping, a simulator and the conformance suite."""
    from misbridge.scaffold import new_plugin

    try:
        target = new_plugin(name, folder, title=title)
    except MisbridgeError as exc:
        fail(str(exc))
    click.echo(f"Wrote {target}. Next:")
    click.echo(f"  cd {target} && pip install -e '.[test]' && pytest")
    click.echo(f"  misbridge plugins        # lists {name!r}")
