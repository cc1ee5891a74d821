"""The ``misbridge`` command line.

Only this module configures logging. Plugins add their commands through the
``register_commands`` hook; a plugin that fails to load is listed by
``misbridge plugins`` with its error and never stops the CLI.
"""

from __future__ import annotations

import json
import logging
import sys

import click
from rich.console import Console
from rich.table import Table

from misbridge._version import __version__
from misbridge.cli_kit import CliState, state
from misbridge.logs import configure_logging
from misbridge.plugins import Plugins, get_plugin_manager

__all__ = ["build_cli", "main"]


def build_cli(plugins: Plugins | None = None) -> click.Group:
    """The root command with every plugin's commands added (``plugins`` for tests)."""
    registry = plugins or get_plugin_manager()

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="misbridge")
    @click.option("--log-json", is_flag=True, help="Log as JSON lines (for log shippers).")
    @click.option("-v", "--verbose", count=True, help="More log detail (-v info, -vv debug).")
    @click.pass_context
    def cli(ctx: click.Context, log_json: bool, verbose: int) -> None:
        """Pull roster data out of school MIS systems, validate it, and sync it safely."""
        level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
        configure_logging(json_output=log_json, level=level)
        ctx.obj = CliState(console=Console(), plugins=registry)

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.option("--all", "show_all", is_flag=True, help="Include the core's own plugins.")
    @click.pass_context
    def plugins_command(ctx: click.Context, as_json: bool, show_all: bool) -> None:
        """List installed plugins, their versions, hooks and load errors."""
        rows = [
            r
            for r in state(ctx).plugins.describe()
            if show_all or r["error"] or not r["name"].startswith("misbridge.")
        ]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        table = Table(title="misbridge plugins")
        for column in ("name", "mis", "version", "hooks", "error"):
            table.add_column(column)
        for r in rows:
            table.add_row(
                r["name"],
                r["mis"] or "",
                r["version"] or "",
                ", ".join(r["hooks"]),
                f"[red]{r['error']}[/]" if r["error"] else "",
            )
        state(ctx).console.print(table)

    from misbridge.demo import demo_command

    cli.add_command(demo_command)
    registry.pm.hook.register_commands(cli=cli)
    return cli


def main() -> None:
    try:
        build_cli()(prog_name="misbridge")
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("Interrupted.", err=True)
        sys.exit(130)
