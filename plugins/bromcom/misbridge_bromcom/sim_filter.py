"""The simulator's reading of Bromcom ``entityFilter`` expressions.

Bromcom passes the filter to its database as a WHERE clause. This evaluator covers the
subset the known public clients send: ``and``/``or``/``not`` and
parentheses, the comparisons ``= <> != < <= > >=``, ``[not] in (...)``, ``[not] like``,
``is [not] null`` and ``isnull(column, value)``. Like SQL Server's default collation,
text compares case-insensitively; a date column compares with ``'2025-01-01'`` or
``'20250101'``; an int column with a numeric literal; a missing value (NULL) never
equals anything. Anything else is a syntax error, which the simulator answers the way
the vendor does (an error status), so a plugin sending a filter Bromcom could not read
fails its tests instead of passing against a lenient stand-in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

__all__ = ["FilterError", "Predicate", "compile_filter", "plain_in_list"]

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]


class FilterError(ValueError):
    """The filter is not one Bromcom would accept (or has too many terms)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|<>|!=|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"and", "or", "not", "in", "like", "is", "null"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterError(f"unexpected text at position {pos}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        out.append((kind, value))
        pos = m.end()
    return out


class _Value:
    """A literal or a column reference; evaluates to a Python value or None (NULL)."""

    def __init__(self, get: Callable[[Row], Any]) -> None:
        self.get = get


@functools.lru_cache(maxsize=256)
def _as_date(text: str) -> date | None:
    for size, fmt in ((10, "%Y-%m-%d"), (8, "%Y%m%d"), (19, "%Y-%m-%dT%H:%M:%S")):
        if len(text) >= size:
            try:
                return datetime.strptime(text[:size], fmt).date()
            except ValueError:
                continue
    return None


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring two SQL values to one comparable type, SQL Server style."""
    if isinstance(a, datetime):
        a = a.date()
    if isinstance(b, datetime):
        b = b.date()
    if isinstance(a, bool) or isinstance(b, bool):
        return _flag(a), _flag(b)
    if isinstance(a, date) and isinstance(b, str):
        return a, _as_date(b)
    if isinstance(b, date) and isinstance(a, str):
        return _as_date(a), b
    if isinstance(a, (int, float)) and isinstance(b, str):
        return str(a), b.lower()
    if isinstance(b, (int, float)) and isinstance(a, str):
        return a.lower(), str(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()
    return a, b


def _flag(v: Any) -> Any:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v) if isinstance(v, (bool, int)) else v


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    x, y = _coerce(a, b)
    if x is None or y is None:
        return False
    try:
        return _COMPARE[op](x, y)
    except TypeError:
        return False


def _like(value: Any, pattern: Any) -> bool:
    if value is None or pattern is None:
        return False
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern))
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


class _Parser:
    def __init__(
        self, tokens: list[tuple[str, str]], max_terms: int | None, columns: frozenset[str]
    ) -> None:
        self.tokens = tokens
        self.pos = 0
        self.max_terms = max_terms
        self.columns = columns

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            want = value or kind
            raise FilterError(f"expected {want} at token {self.pos + 1}")
        self.pos += 1
        return tok[1]

    def accept(self, kind: str, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok == (kind, value):
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise FilterError(f"unexpected text at token {self.pos + 1}")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.accept("kw", "or"):
            parts.append(self.and_expr())
        self.check_terms(len(parts))
        if len(parts) == 1:
            return parts[0]
        return lambda row: any(p(row) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.accept("kw", "and"):
            parts.append(self.not_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda row: all(p(row) for p in parts)

    def not_expr(self) -> Predicate:
        if self.accept("kw", "not"):
            inner = self.not_expr()
            return lambda row: not inner(row)
        if self.accept("punct", "("):
            inner = self.or_expr()
            self.take("punct", ")")
            return inner
        return self.predicate()

    def check_terms(self, n: int) -> None:
        if self.max_terms is not None and n > self.max_terms:
            raise FilterError(f"the filter has {n} terms; at most {self.max_terms} are allowed")

    def predicate(self) -> Predicate:
        left = self.operand()
        negate = self.accept("kw", "not")
        if self.accept("kw", "in"):
            self.take("punct", "(")
            items = [self.operand()]
            while self.accept("punct", ","):
                items.append(self.operand())
            self.take("punct", ")")
            self.check_terms(len(items))

            def within(row: Row) -> bool:
                value = left.get(row)
                return any(_compare("=", value, i.get(row)) for i in items)

            return (lambda row: not within(row)) if negate else within
        if self.accept("kw", "like"):
            pattern = self.operand()
            if negate:
                return lambda row: not _like(left.get(row), pattern.get(row))
            return lambda row: _like(left.get(row), pattern.get(row))
        if negate:
            raise FilterError(f"'not' must be followed by in or like at token {self.pos + 1}")
        if self.accept("kw", "is"):
            is_not = self.accept("kw", "not")
            self.take("kw", "null")
            if is_not:
                return lambda row: left.get(row) is not None
            return lambda row: left.get(row) is None
        op = self.take("op")
        right = self.operand()
        return lambda row: _compare(op, left.get(row), right.get(row))

    def operand(self) -> _Value:
        tok = self.peek()
        if tok is None:
            raise FilterError("the filter ends too early")
        kind, value = tok
        self.pos += 1
        if kind == "str":
            text = value[1:-1].replace("''", "'")
            return _Value(lambda row: text)
        if kind == "num":
            number: int | float = float(value) if "." in value else int(value)
            return _Value(lambda row: number)
        if kind == "word":
            if self.accept("punct", "("):
                return self.function(value.lower())
            name = value.lower()
            if name not in self.columns:
                raise FilterError(f"invalid column name {value!r}")
            return _Value(lambda row: row.get(name))
        raise FilterError(f"unexpected {value!r} at token {self.pos}")

    def function(self, name: str) -> _Value:
        if name != "isnull":
            raise FilterError(f"unknown function {name}()")
        first = self.operand()
        self.take("punct", ",")
        second = self.operand()
        self.take("punct", ")")

        def isnull(row: Row) -> Any:
            value = first.get(row)
            return second.get(row) if value is None else value

        return _Value(isnull)


def compile_filter(
    text: str | None, columns: frozenset[str], max_terms: int | None = None
) -> Predicate:
    """A predicate over rows keyed by *lower-cased* column names.

    ``columns`` are the entity's lower-cased column names: any other name is an error,
    as in SQL. An empty filter matches every row. ``max_terms`` caps the values of one
    ``in`` list and the terms of one ``or`` chain (the legacy feed's limit is 20).
    """
    if text is None or not text.strip():
        return lambda row: True
    return _Parser(_tokens(text), max_terms, columns).parse()


def plain_in_list(text: str | None) -> tuple[str, list[str]] | None:
    """``(column, values)`` when the filter is only ``column in (literal, ...)`` (the
    batched id lists), with values as lower-cased text, so that the simulator can answer
    it from an index instead of testing every row; None for any other filter."""
    if text is None:
        return None
    try:
        tokens = _tokens(text)
    except FilterError:
        return None
    if len(tokens) < 5 or tokens[0][0] != "word" or tokens[1] != ("kw", "in"):
        return None
    if tokens[2] != ("punct", "(") or tokens[-1] != ("punct", ")"):
        return None
    values: list[str] = []
    for n, (kind, value) in enumerate(tokens[3:-1]):
        if n % 2:
            if (kind, value) != ("punct", ","):
                return None
        elif kind == "num":
            values.append(value)
        elif kind == "str":
            values.append(value[1:-1].replace("''", "'").lower())
        else:
            return None
    return tokens[0][1].lower(), values
