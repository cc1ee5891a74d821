"""How a run is shown: tables and progress bars on a terminal; plain ``key=value`` lines
when stdout is a log file (a nightly job's log never holds tables cut to 80 columns);
one JSON object per line with ``--log-json``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from misbridge.printable import clean

if TYPE_CHECKING:
    from misbridge.cli_kit import CliState
    from misbridge.hooktypes import MisInfo, PermissionCheck
    from misbridge.jobs.config import SchoolConfig
    from misbridge.jobs.result import RunResult
    from misbridge.jobs.trust import SchoolOutcome, TrustResult

__all__ = [
    "render_checks",
    "render_run",
    "render_trust",
    "render_trust_school",
    "run_with_progress",
]


def _line(**fields: Any) -> str:
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = clean(value)
        parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
    return " ".join(parts)


def run_with_progress(cli: CliState, school: SchoolConfig, **kwargs: Any) -> RunResult:
    """Run ``school`` with a progress display on a terminal, then show what it did."""
    from misbridge.jobs.run import run_async

    console = cli.console
    if not console.is_terminal or cli.log_json:
        result = asyncio.run(run_async(school, pm=cli.plugins, **kwargs))
        render_run(cli, result)
        return result
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[Any, Any] = {}
    with Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:

        def on_record(dataset: Any, count: int) -> None:
            if dataset not in tasks:
                tasks[dataset] = progress.add_task(dataset.value, total=None)
            progress.update(tasks[dataset], completed=count)

        def on_total(dataset: Any, total: int) -> None:
            if dataset not in tasks:
                tasks[dataset] = progress.add_task(dataset.value, total=total)
            progress.update(tasks[dataset], total=total)

        result = asyncio.run(
            run_async(school, pm=cli.plugins, on_record=on_record, on_total=on_total, **kwargs)
        )
    render_run(cli, result)
    return result


def render_run(cli: CliState, result: RunResult) -> None:
    summary = result.summary()
    if cli.log_json:
        click.echo(json.dumps({"event": "run", "school": result.school, **summary}, default=str))
        return
    if not cli.console.is_terminal:
        _plain(result, summary)
        return
    from misbridge.report import console_summary

    console = cli.console
    if result.sync is not None:
        result.sync.render(console)
    if result.refusal is not None:
        console.print(f"[bold red]Refused:[/] {clean(result.refusal)}", highlight=False)
    console_summary(result.errors, summary, console, reports=result.out)
    if result.out is not None:
        console.print(
            f"Wrote the extract, errors and reports to {clean(result.out)}", highlight=False
        )


def _plain(result: RunResult, summary: Mapping[str, Any]) -> None:
    school, mis = result.school, result.mis
    for name, outcome in summary["datasets"].items():
        click.echo(
            _line(
                school=school,
                mis=mis,
                dataset=name,
                status=outcome["status"],
                records=outcome["records"],
                rejected=outcome["rejected"],
                delta="yes" if outcome.get("delta") else None,
                message=outcome.get("message"),
            )
        )
    sync = summary.get("sync")
    if sync is not None:
        state = "refused" if sync["refused"] else "dry-run" if sync["dry_run"] else "applied"
        for dataset, counts in sync["counts"].items():
            click.echo(
                _line(
                    school=school,
                    sync=state,
                    dataset=dataset,
                    **{k: v for k, v in counts.items() if v},
                )
            )
        click.echo(_line(school=school, sync=state, plan=sync["plan_hash"], writes=sync["writes"]))
        for breach in sync["breaches"]:
            click.echo(_line(school=school, guard="breach", message=breach["message"]))
    if result.refusal is not None:
        click.echo(_line(school=school, refused=result.refusal.splitlines()[-1]))
    click.echo(
        _line(
            school=school,
            status=summary["status"],
            errors=summary["errors"],
            warnings=summary["warnings"],
            report=str(result.out / "report.html") if result.out is not None else None,
        )
    )
    for error in result.errors[:20]:
        click.echo(
            _line(
                school=school,
                problem=error.code,
                dataset=error.dataset,
                record=error.record_label or error.mis_id,
                field=error.field,
                message=error.message,
            )
        )
    if len(result.errors) > 20:
        where = result.out / "errors.csv" if result.out is not None else "errors.csv (--out)"
        click.echo(_line(school=school, more_problems=len(result.errors) - 20, see=str(where)))


def render_checks(cli: CliState, info: MisInfo, checks: Iterable[PermissionCheck]) -> None:
    checks = list(checks)
    if cli.log_json or not cli.console.is_terminal:
        for c in checks:
            click.echo(
                _line(
                    mis=info.name,
                    dataset=c.dataset.value,
                    ok="yes" if c.ok else "no",
                    missing="; ".join(c.missing) or None,
                    notes="; ".join(c.notes) or None,
                )
            )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{info.title}: permissions")
    for column in ("dataset", "ok", "missing", "notes"):
        table.add_column(column)
    for c in checks:
        table.add_row(
            c.dataset.value,
            Text("yes", style="green") if c.ok else Text("no", style="red"),
            Text(clean("\n".join(c.missing))),
            Text(clean("\n".join(c.notes))),
        )
    cli.console.print(table)


_STYLE = {
    "complete": "green",
    "unverified": "yellow",
    "partial": "yellow",
    "refused": "bold red",
    "locked": "magenta",
    "failed": "bold red",
}


def render_trust_school(cli: CliState, outcome: SchoolOutcome) -> None:
    """One school of a trust run has ended: its own lines (plain or JSON logs), or one
    line on a terminal."""
    if cli.log_json:
        click.echo(json.dumps({"event": "trust.school", **outcome.as_dict()}, default=str))
        return
    if not cli.console.is_terminal:
        if outcome.result is not None:
            _plain(outcome.result, outcome.result.summary())
        else:
            click.echo(
                _line(
                    school=outcome.school,
                    mis=outcome.mis,
                    status=outcome.status,
                    message=outcome.message,
                )
            )
        return
    style = _STYLE.get(outcome.status, "")
    why = f": {clean(outcome.message)}" if outcome.message else ""
    cli.console.print(
        f"[{style}]{outcome.status:>10}[/] {clean(outcome.school)} ({outcome.mis}, "
        f"{outcome.seconds:.1f} s, {outcome.errors} errors){why}",
        highlight=False,
    )


def render_trust(cli: CliState, result: TrustResult, files: Iterable[Any] = ()) -> None:
    """The trust summary: which schools are complete, unverified, partial, refused,
    locked or failed, and where the summary files are."""
    summary = result.summary()
    written = [str(f) for f in files]
    if cli.log_json:
        click.echo(json.dumps({"event": "trust", **summary, "files": written}, default=str))
        return
    groups = {k: v for k, v in summary["schools_by_status"].items() if v}
    if not cli.console.is_terminal:
        for status, names in groups.items():
            click.echo(_line(trust=status, schools=len(names), names=",".join(names)))
        click.echo(
            _line(
                trust="finished",
                schools=len(result.outcomes),
                seconds=summary["seconds"],
                processes=result.processes,
                exit_code=result.exit_code,
                summary=written[0] if written else None,
            )
        )
        return
    from rich.table import Table

    table = Table(title=f"The trust's night: {len(result.outcomes)} schools")
    for column in ("status", "schools", "which"):
        table.add_column(column)
    for status, names in groups.items():
        table.add_row(
            f"[{_STYLE.get(status, '')}]{status}[/]", str(len(names)), clean(", ".join(names))
        )
    cli.console.print(table)
    cli.console.print(
        f"{summary['seconds']} s over {result.processes} processes; exit code "
        f"{result.exit_code}." + (f" Summary: {clean(written[-1])}" if written else ""),
        highlight=False,
    )
