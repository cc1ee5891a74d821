"""Building Bromcom ``entityFilter`` expressions (the SQL-like WHERE clause both APIs take).

Values are always quoted here, never pasted: a quote inside a value is doubled
(``O'Brien`` -> ``'O''Brien'``), as Bromcom's filter syntax wants, so a name can never
end the string early and change the filter. Lists of values are split into batches,
because the legacy service refuses a filter with more than 20 terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

__all__ = [
    "DEFAULT_MAX_TERMS",
    "all_of",
    "any_of",
    "current_or_later",
    "is_in",
    "literal",
    "matches_nothing",
    "quote",
]

#: The legacy feed's limit ("multi select maxes out at 20"); the Partner API's is unknown.
DEFAULT_MAX_TERMS = 20


def quote(value: str) -> str:
    """A string literal with embedded quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def literal(value: str | int | date) -> str:
    """A filter literal: numbers bare, dates and text quoted (dates as yyyy-mm-dd)."""
    if isinstance(value, bool):
        return quote("True" if value else "False")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return quote(value.isoformat())
    if value.isdigit() and not value.startswith("0"):
        return value
    return quote(value)


def is_in(field: str, values: Iterable[str | int], max_terms: int) -> Iterator[str]:
    """``field in (...)`` filters covering ``values``, at most ``max_terms`` values each."""
    if max_terms < 1:
        raise ValueError("max_terms must be at least 1")
    batch: list[str] = []
    for value in dict.fromkeys(values):
        batch.append(literal(value))
        if len(batch) == max_terms:
            yield f"{field} in ({','.join(batch)})"
            batch = []
    if batch:
        yield f"{field} in ({','.join(batch)})"


def all_of(*clauses: str) -> str:
    """Clauses joined with ``and``, each parenthesised; blanks are skipped."""
    parts = [c for c in clauses if c.strip()]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({c})" for c in parts)


def any_of(clauses: Sequence[str]) -> str:
    parts = [c for c in clauses if c.strip()]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({c})" for c in parts)


def current_or_later(prefix: str, end_field: str, since: date) -> str:
    """Records that had not ended before ``since`` (open-ended ones included).

    The Partner API's clients send ``endDate>='<today>' or isnull(endDate,'')=''`` to
    mean "current"; we start from the academic year instead of today, so that pupils
    who left this year (and their memberships) still come back with their end dates
    and the store can disable them.
    """
    field = f"{prefix}{end_field}"
    return f"{field}>={literal(since)} or isnull({field},'')=''"


def matches_nothing(id_field: str) -> str:
    """A filter no row matches: probes access without reading anyone's data."""
    return f"{id_field}=-1"
