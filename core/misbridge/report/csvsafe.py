"""Spreadsheet-safe CSV cells (CSV/formula injection, OWASP).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula,
and tab or carriage return can smuggle one in; such a cell gets a leading apostrophe,
which spreadsheets show as "text". A cell that already starts with an apostrophe gets
one more, so that :func:`restore` undoes :func:`neutralise` exactly.
"""

from __future__ import annotations

__all__ = ["DANGEROUS_STARTS", "neutralise", "restore"]

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(DANGEROUS_STARTS) else cell


def restore(cell: str) -> str:
    """The original value of a cell written by :func:`neutralise`."""
    return cell[1:] if cell.startswith("'") else cell
