"""The error reporter: console summary, JSON Lines, spreadsheet-safe CSV and a single
self-contained HTML report; :mod:`misbridge.report.webhook` is the built-in
``report_errors`` plugin that POSTs errors to a configured URL."""

from __future__ import annotations

from misbridge.report.console import console_summary
from misbridge.report.csvsafe import neutralise, restore
from misbridge.report.files import COLUMNS, error_rows, write_reports
from misbridge.report.html import render_html

__all__ = [
    "COLUMNS",
    "console_summary",
    "error_rows",
    "neutralise",
    "render_html",
    "restore",
    "write_reports",
]
