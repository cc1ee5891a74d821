"""``misbridge plugins``: each plugin, its version, its hooks and any load error."""

from __future__ import annotations

import json
from typing import Any

import click

from misbridge.cli.lazy import LazyGroup
from misbridge.cli_kit import clean, state

__all__ = ["plugins_command"]


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (nothing else on stdout).")
@click.option("--all", "show_all", is_flag=True, help="Include the core's own plugins.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool, show_all: bool) -> None:
    """List installed plugins, their versions, hooks and load errors."""
    cli = state(ctx)
    root = ctx.find_root().command
    if isinstance(root, click.Group):
        root.list_commands(ctx)  # registers the core's command plugins, to list them
        _build_plugin_groups(cli.plugins, root)
    rows = [
        r
        for r in cli.plugins.describe()
        if show_all or r["error"] or not r["name"].startswith("misbridge.")
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not cli.console.is_terminal:
        for r in rows:
            hooks = ",".join(r["hooks"])
            error = f" error={clean(r['error'])!r}" if r["error"] else ""
            click.echo(
                f"plugin={r['name']} mis={r['mis'] or '-'} version={r['version'] or '-'} "
                f"hooks={hooks}{error}"
            )
        return
    from rich.table import Table

    table = Table(title="misbridge plugins")
    for column in ("name", "mis", "version", "hooks", "error"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            clean(r["name"]),
            r["mis"] or "",
            r["version"] or "",
            ", ".join(r["hooks"]),
            f"[red]{clean(r['error'])}[/]" if r["error"] else "",
        )
    cli.console.print(table)


def _build_plugin_groups(plugins: Any, root: click.Group) -> None:
    """Build each plugin's command group (the rest of the command line builds one only
    when it is used), so that a group that cannot be built is listed with its error."""
    for name, command in sorted(root.commands.items()):
        if not isinstance(command, LazyGroup):
            continue
        try:
            command.resolve()
        except click.ClickException as exc:
            loaded = plugins.mis.get(name)
            plugins.record_error(loaded.plugin_name if loaded else name, exc.message)
