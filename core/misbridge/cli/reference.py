"""The command reference in ``docs/cli.md``, generated from the command tree itself.

``python -m misbridge.cli.reference > docs/cli-reference.md`` writes it; a test checks the
file is current, so a command, an option or its help can never be missing from the docs.
"""

from __future__ import annotations

import click

from misbridge.cli.lazy import resolved

__all__ = ["render"]


def _option(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return f"`{param.human_readable_name}`"
    return ", ".join(f"`{n}`" for n in (*param.opts, *param.secondary_opts))


def _command(lines: list[str], command: click.Command, path: list[str], depth: int) -> None:
    title = " ".join(path)
    lines.append(f"{'#' * min(depth, 4)} `{title}`")
    lines.append("")
    help_text = (command.help or "").strip()
    if help_text:
        lines += [" ".join(help_text.split()), ""]
    params = [p for p in command.params if p.name not in ("help",)]
    if params:
        lines += ["| option | help |", "| --- | --- |"]
        for param in params:
            text = getattr(param, "help", None) or ""
            shown = isinstance(param, click.Option) and param.show_default
            if shown and param.default not in (None, False, (), ""):
                text += f" (default: {param.default})"
            lines.append(f"| {_option(param)} | {' '.join(text.split()).replace('|', '/')} |")
        lines.append("")
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sub = resolved(sub)
                _command(lines, sub, [*path, name], depth + 1)


def render() -> str:
    """The whole reference as Markdown (every plugin installed here included)."""
    from misbridge.cli import build_cli

    cli = build_cli()
    lines = [
        "# Command reference",
        "",
        "Generated from the command tree (`python -m misbridge.cli.reference`); see",
        "[cli.md](cli.md) for exit codes, output files and examples.",
        "",
    ]
    _command(lines, cli, ["misbridge"], 2)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    click.echo(render(), nl=False)
