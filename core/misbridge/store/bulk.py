"""Inserting many new rows at once, beneath SQLAlchemy's per-row parameter handling.

A first apply writes one row per record of the school (over 40,000 for 2,000 pupils);
through Core's ``executemany`` about 70% of that time was SQLAlchemy building and
processing each row's parameters, not the database. Here every value still goes
through its column type's own bind processor (so a stored value is exactly what Core
would have stored), then the rows go straight to the driver, inside the caller's
transaction: SQLite's ``executemany`` (through ``exec_driver_sql``, so SQLAlchemy's
error wrapping still applies), PostgreSQL's ``COPY ... FROM STDIN``. A database error
is raised as SQLAlchemy's, as Core would have raised it, so the store's transaction
turns it into a :class:`~misbridge.errors.StoreError` and rolls everything back.

:func:`insert_rows_core` is the plain Core insert, kept as the reference the bulk path
is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

__all__ = ["insert_rows", "insert_rows_core"]

_Processor = Callable[[Any], Any]


def insert_rows_core(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` with Core's ``executemany``: the reference path."""
    if rows:
        conn.execute(table.insert(), list(rows))
    return len(rows)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys, every one a column of ``table``)."""
    if not rows:
        return 0
    dialect = conn.dialect
    sqlite = dialect.name == "sqlite" and dialect.paramstyle == "qmark"
    if not (sqlite or (dialect.name == "postgresql" and dialect.driver == "psycopg")):
        return insert_rows_core(conn, table, rows)  # a driver this module does not know
    columns = _columns(table, rows[0])
    values = _values(columns, rows, dialect)
    # Only the schema's own names, quoted by the dialect, go into the statement.
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    target = dialect.identifier_preparer.format_table(table)
    if sqlite:
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO {target} ({names}) VALUES ({marks})"  # noqa: S608
        conn.exec_driver_sql(insert, values)
    else:
        _copy(conn, f"COPY {target} ({names}) FROM STDIN", values)
    return len(rows)


def _columns(table: sa.Table, first: dict[str, Any]) -> list[sa.Column[Any]]:
    unknown = set(first) - set(table.c.keys())
    if unknown:
        raise sa.exc.CompileError(f"Unconsumed column names: {', '.join(sorted(unknown))}")
    return [c for c in table.columns if c.key in first]


class _Memo:
    """A column's bind processor and its last result, reused while the very same object
    comes again: every new row of an apply shares one timestamp (``created_at``,
    ``changed_at``) and mostly ``None`` in the rest, and processors are pure."""

    __slots__ = ("index", "last_in", "last_out", "process")

    def __init__(self, index: int, process: _Processor) -> None:
        self.index = index
        self.process = process
        self.last_in: Any = _UNSET
        self.last_out: Any = None


_UNSET = object()


def _values(
    columns: Sequence[sa.Column[Any]], rows: Sequence[dict[str, Any]], dialect: sa.Dialect
) -> list[tuple[Any, ...]]:
    """Every row as a tuple in ``columns``' order, each value bind-processed as Core does."""
    keys = [c.key for c in columns]
    width = len(keys)
    processors: list[_Memo] = []
    for index, column in enumerate(columns):
        bind = column.type.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None:
            processors.append(_Memo(index, bind))
    pick = itemgetter(*keys)
    out: list[tuple[Any, ...]] = []
    append = out.append
    try:
        for row in rows:
            if len(row) != width:
                raise KeyError(width)
            picked = pick(row)
            if width == 1:
                picked = (picked,)
            if processors:
                line = list(picked)
                for memo in processors:
                    value = line[memo.index]
                    if value is not memo.last_in:
                        memo.last_in, memo.last_out = value, memo.process(value)
                    line[memo.index] = memo.last_out
                append(tuple(line))
            else:
                append(picked)
    except KeyError:
        raise sa.exc.InvalidRequestError(
            "every row of one insert must give the same columns as the first"
        ) from None
    return out


def _copy(conn: sa.Connection, statement: str, values: list[tuple[Any, ...]]) -> None:
    """``COPY ... FROM STDIN`` on the transaction's own psycopg connection."""
    raw = conn.connection.dbapi_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            write = copy.write_row
            for line in values:
                write(line)
    except dbapi.Error as exc:
        # As Core would raise it (IntegrityError and so on), values hidden: pupils' data.
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, dbapi.Error, hide_parameters=True, dialect=conn.dialect
        ) from exc
