"""The trust summary: ``trust-summary.json`` and ``trust-report.html`` beside it.

Counts and words only (school keys, statuses, exit codes, error counts, the guard's or
the failure's one line, the path of each school's own report): no personal data, so
the files may go to whoever oversees the trust's nights.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from misbridge.files import atomic_write_text, private_folder
from misbridge.jobs.config import Config
from misbridge.jobs.trust import TrustResult

__all__ = ["summary_path", "write_summary"]

_COLOURS = {
    "complete": "#1a7f37",
    "unverified": "#9a6700",
    "partial": "#bc4c00",
    "refused": "#cf222e",
    "locked": "#8250df",
    "failed": "#cf222e",
}


def summary_path(config: Config) -> Path:
    """Where the trust summary goes: ``[run] summary``, else ``out``, else the home."""
    if config.run.summary is not None:
        return config.run.summary
    if config.out is not None:
        return config.out / "trust-summary.json"
    from misbridge.config import home

    return home() / "trust-summary.json"


def write_summary(result: TrustResult, path: Path) -> list[Path]:
    """Write the JSON summary at ``path`` and the HTML page beside it; return both."""
    private_folder(path.parent)
    data = result.summary()
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    page = path.with_name("trust-report.html")
    atomic_write_text(page, _html(data))
    return [path, page]


def _html(data: dict[str, object]) -> str:
    rows = []
    for school in data["schools"]:  # type: ignore[attr-defined]
        status = str(school["status"])
        report = school.get("report")
        link = f'<a href="{html.escape(Path(str(report)).as_uri())}">report</a>' if report else ""
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(school['school']))}</td>"
            f"<td>{html.escape(str(school['mis']))}</td>"
            f'<td style="color:{_COLOURS.get(status, "#000")}"><b>{html.escape(status)}</b></td>'
            f"<td>{school['exit_code']}</td><td>{school['errors']}</td>"
            f"<td>{school['warnings']}</td><td>{school['seconds']}</td>"
            f"<td>{html.escape(str(school.get('message') or ''))}</td><td>{link}</td>"
            "</tr>"
        )
    counts = ", ".join(f"{k} {v}" for k, v in data["counts"].items() if v)  # type: ignore[attr-defined]
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        "<title>misbridge: the trust's night</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>The trust's night</h1><p>{html.escape(str(data['started']))} to "
        f"{html.escape(str(data['finished']))} ({data['seconds']} s, {data['processes']} "
        f"processes): {html.escape(counts)}; exit code {data['exit_code']}.</p>"
        "<table><tr><th>school</th><th>MIS</th><th>status</th><th>exit</th><th>errors</th>"
        "<th>warnings</th><th>seconds</th><th>why</th><th></th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
