"""``misbridge spreadsheet ...``: the standard check/extract commands, ``mappings`` to list
the built-in mappings, and ``map FILE`` to propose a mapping from a file's headers."""

from __future__ import annotations

from pathlib import Path

import click

from misbridge.plugin import MisbridgeError, MisInfo, fail, mis_command_group

__all__ = ["group"]


def group(info: MisInfo) -> click.Group:
    commands = mis_command_group(info)

    @commands.command("mappings")
    def mappings() -> None:
        """List the built-in column mappings and where their column names come from."""
        from misbridge_spreadsheet.mapping import BUILTIN, load_mapping

        for name in BUILTIN:
            mapping = load_mapping(name)
            click.echo(f"{name}: {mapping.title}")
            click.echo(f"    source: {mapping.source}")
            if mapping.inferred:
                click.echo(f"    inferred headers: {', '.join(mapping.inferred)}")

    @commands.command("map")
    @click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
    @click.option("--sheet", help="The worksheet to read (default: the first).")
    @click.option(
        "--record",
        type=click.Choice(["auto", "student", "staff", "group", "membership", "marksheet"]),
        default="auto",
        show_default=True,
        help="What the file holds (auto: guess from its headers).",
    )
    @click.option("--encoding", default="utf-8", show_default=True, help="CSV text encoding.")
    @click.option("--password", envvar="MISBRIDGE_SPREADSHEET_PASSWORD", hidden=True)
    def map_command(
        file: Path, sheet: str | None, record: str, encoding: str, password: str | None
    ) -> None:
        """Propose a column mapping (TOML) from FILE's headers; review it, then save it
        and pass it as --mapping."""
        from misbridge_spreadsheet.propose import propose

        try:
            click.echo(
                propose(file, sheet=sheet, record=record, encoding=encoding, password=password)
            )
        except MisbridgeError as exc:
            fail(str(exc))

    return commands
