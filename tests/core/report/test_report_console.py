from __future__ import annotations

from rich.console import Console

from misbridge.errors import RecordError, Severity
from misbridge.report import console_summary
from misbridge.validate import make_error


def run(errors: list[RecordError], limit: int = 20) -> str:
    console = Console(record=True, width=200, color_system=None)
    summary = {
        "datasets": {"students": {"status": "complete", "records": 5, "rejected": 1}},
    }
    console_summary(errors, summary, console, limit=limit)
    return console.export_text()


def test_counts_then_first_rows() -> None:
    errors = [
        make_error(
            "MB2002",
            dataset="students",
            mis="sims",
            mis_id=str(i),
            label=f"admission number {i:06}",
        )
        for i in range(30)
    ] + [make_error("MB4001", dataset="staff", mis="sims", mis_id="s1", label="staff code ABC")]
    text = run(errors, limit=5)
    assert "students: complete (5 records, 1 rejected)" in text
    counts = text[: text.index("First 5 of 31 problems")]
    assert "MB2002" in counts and "30" in counts and "MB4001" in counts and "warning" in counts
    assert "admission number 000004" in text and "admission number 000005" not in text
    assert "30 errors (records not imported), 1 warnings" in text


def test_markup_in_messages_is_printed_literally() -> None:
    error = RecordError(
        dataset="students",
        mis_id="[bold]1[/bold]",
        field="x",
        code="MB2001",
        message="[red]not markup[/red]",
        severity=Severity.ERROR,
    )
    text = run([error])
    assert "[red]not markup[/red]" in text and "[bold]1[/bold]" in text


def test_no_errors() -> None:
    assert "No record has a problem." in run([])
