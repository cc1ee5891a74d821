"""``misbridge sims ...``: the standard check/extract commands, progress per report, and
``misbridge sims reports`` to print the report definitions a SIMS administrator imports."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from misbridge.plugin import MisInfo, mis_command_group
from misbridge_sims.reports import DATASET_DEPENDS, REPORTS, ReportDef
from misbridge_sims.session import REPORT_PROGRESS, ReportCallback

__all__ = ["definitions_markdown", "group"]


def _printer(console: Console) -> ReportCallback:
    started: dict[str, float] = {}

    def on_report(report: str, event: str, records: int) -> None:
        if event == "start":
            started[report] = time.monotonic()
            console.print(f"[dim]report[/] {report}: running")
        else:
            took = time.monotonic() - started.pop(report, time.monotonic())
            what = "failed after" if event == "failed" else "read"
            console.print(f"[dim]report[/] {report}: {what} {records:,} records in {took:.1f} s")

    return on_report


def _with_report_progress(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = REPORT_PROGRESS.set(_printer(Console(stderr=True)))
        try:
            return callback(*args, **kwargs)
        finally:
            REPORT_PROGRESS.reset(token)

    return wrapped


def _report_markdown(report: ReportDef, prefix: str) -> list[str]:
    lines = [
        f"### {report.name(prefix)}",
        "",
        f"- Dataset: `{report.dataset.value}`; SIMS data area: {report.data_area}",
        f"- Permissions: {'; '.join(report.requires)}",
        f"- Sort by: {report.key_caption} (rows of one entity must come together)",
        "",
        "| record set | column caption | SIMS field | ID (needs Third Party Reporter) |",
        "| --- | --- | --- | --- |",
    ]
    for subset in (report.main, *report.subsets):
        lines += [
            f"| {subset.name} | {c.caption} | {c.sims_field} | {'yes' if c.is_id else ''} |"
            for c in subset.columns
        ]
    return [*lines, ""]


def definitions_markdown(prefix: str = "misbridge ") -> str:
    """The report definitions as Markdown (docs/plugins/sims.md embeds this output)."""
    lines: list[str] = []
    for report in REPORTS:
        lines += _report_markdown(report, prefix)
    lines += ["Permission chains (a dataset also needs the permissions of these):", ""]
    lines += [
        f"- {d.value}: {', '.join(x.value for x in deps)}"
        for d, deps in DATASET_DEPENDS.items()
        if deps
    ]
    return "\n".join(lines) + "\n"


def group(info: MisInfo) -> click.Group:
    commands = mis_command_group(info)
    for name in ("check", "extract"):
        command = commands.commands.get(name)
        if command is not None and command.callback is not None:
            command.callback = _with_report_progress(command.callback)

    @commands.command("reports")
    @click.option("--prefix", default="misbridge ", show_default=True, help="Report name prefix.")
    def reports(prefix: str) -> None:
        """Print the report definitions to import into SIMS (names and column captions)."""
        click.echo(definitions_markdown(prefix))

    return commands
