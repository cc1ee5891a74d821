"""The console summary after a run: counts per dataset and code, then the first rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from misbridge.errors import RecordError, Severity
from misbridge.printable import clean

__all__ = ["console_summary"]

_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def console_summary(
    errors: Sequence[RecordError],
    summary: Mapping[str, Any],
    console: Console,
    limit: int = 20,
    reports: Path | None = None,
) -> None:
    """Print the counts and the first ``limit`` errors. Values go in as plain
    :class:`~rich.text.Text` with control characters removed, so neither a ``[`` nor an
    escape sequence in a message is ever obeyed. ``reports`` is where the full lists
    were written, if anywhere."""
    datasets = summary.get("datasets")
    if isinstance(datasets, Mapping):
        for name, outcome in datasets.items():
            if not isinstance(outcome, Mapping):
                continue
            status = str(outcome.get("status", ""))
            line = Text(f"{name}: ")
            line.append(status, style="green" if status == "complete" else "red")
            line.append(
                f" ({outcome.get('records', 0)} records, {outcome.get('rejected', 0)} rejected)"
            )
            if outcome.get("message"):
                line.append(f": {clean(outcome['message'])}")
            console.print(line)
    if not errors:
        read = [
            o
            for o in (datasets.values() if isinstance(datasets, Mapping) else [])
            if isinstance(o, Mapping) and o.get("status") in ("complete", "unverified")
        ]
        if read:
            console.print(Text("No record has a problem.", style="green"))
        else:
            console.print(Text("No dataset was read, so no record was checked.", style="red"))
        return
    counts = Counter((e.dataset, e.code, e.severity) for e in errors)
    table = Table(title="Problems by dataset and code", title_justify="left")
    table.add_column("Dataset")
    table.add_column("Code")
    table.add_column("Severity")
    table.add_column("Records", justify="right")
    for (dataset, code, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(
            Text(clean(dataset)),
            Text(clean(code)),
            Text(severity.value, style=_STYLE.get(severity, "")),
            Text(str(n)),
        )
    console.print(table)
    shown = errors[: max(limit, 0)]
    rows = Table(
        title=f"First {len(shown)} of {len(errors)} problems", title_justify="left", expand=True
    )
    rows.add_column("Dataset", no_wrap=True)
    rows.add_column("Record")
    rows.add_column("Field")
    rows.add_column("Code", no_wrap=True)
    rows.add_column("What to do", ratio=1)
    for e in shown:
        rows.add_row(
            Text(clean(e.dataset)),
            Text(clean(e.record_label or e.mis_id or "")),
            Text(clean(e.field or "")),
            Text(clean(e.code), style=_STYLE.get(e.severity, "")),
            Text(clean(e.message)),
        )
    console.print(rows)
    n_errors = sum(1 for e in errors if e.severity is Severity.ERROR)
    console.print(
        Text(
            f"{n_errors} errors (records not imported), {len(errors) - n_errors} warnings."
            + (
                f" The full list is in {reports / 'errors.csv'} and {reports / 'report.html'}."
                if reports is not None
                else " Write the full list with --out DIR (errors.csv and report.html)."
            ),
        )
    )
