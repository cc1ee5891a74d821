"""Dates and flags in every encoding the supported MIS send (docs/plugins/ lists each format
and its public source).

``parse_date`` returns a :class:`datetime.date`, ``None`` for "no value", or raises
:class:`DateParseError`; it never guesses (two-digit years, US order and the like are
refused). The error message describes the *shape* of the bad value (``"99/99/99"``),
never the value itself, because a date of birth is personal data and exception
messages end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

__all__ = ["DateParseError", "FlagParseError", "parse_date", "parse_flag", "value_shape"]


class DateParseError(ValueError):
    """A value is not a date in any format an MIS we support sends."""


class FlagParseError(ValueError):
    """A value is not a yes/no flag in any form an MIS we support sends."""


_SHAPE = str.maketrans("0123456789", "9999999999")


def value_shape(value: object) -> str:
    """A safe description of a bad value: digits become 9, letters A, length kept."""
    if isinstance(value, str):
        text = value[:40].translate(_SHAPE)
        return '"' + "".join("A" if c.isalpha() else c for c in text) + '"'
    if isinstance(value, Mapping):
        return "an object with keys " + ", ".join(sorted(map(str, value)))[:80]
    return f"a {type(value).__name__}"


def _dmy(text: str) -> date:
    # SIMS writes UK order; refuse anything that is not dd/mm/yyyy rather than guess.
    if len(text) != 10 or text[2] != "/" or text[5] != "/":
        raise ValueError(text)
    day, month, year = text[:2], text[3:5], text[6:]
    if not (day.isdigit() and month.isdigit() and year.isdigit()):
        raise ValueError(text)
    return date(int(year), int(month), int(day))


def _parse_text(text: str) -> date:
    n = len(text)
    if n == 10:
        if text[4] == "-":
            return date.fromisoformat(text)
        return _dmy(text)
    if n == 8 and text.isdigit():  # Bromcom "20100901"
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if n > 10 and text[2] == "/":  # SIMS "18/03/2024 00:00:00"
        head, sep, clock = text.partition(" ")
        if not sep:
            raise ValueError(text)
        time.fromisoformat(clock.strip())  # a malformed time means a malformed value
        return _dmy(head)
    if n > 10 and text[4] == "-" and text[10] in " T":
        # ISO datetimes, Arbor "Y-m-d H:i:s", Carbon "Y-m-d H:i:s.u", offsets, "Z".
        # The calendar date is taken as sent: converting between zones would be a guess.
        return datetime.fromisoformat(text).date()
    raise ValueError(text)


def parse_date(value: object) -> date | None:
    """Parse any MIS date encoding. ``None`` and blank strings mean "no date".

    Accepted: ``date``/``datetime``; ISO dates and datetimes (fractions, offsets, "Z");
    Arbor ``"Y-m-d H:i:s"`` and ``{"entityType": "date", "date": ...}``; Wonde/Carbon
    ``{"date": "Y-m-d H:i:s.u", "timezone_type": 3, "timezone": "UTC"}``; SIMS
    ``"dd/mm/yyyy"`` and ``"dd/mm/yyyy HH:MM:SS"``; Bromcom ``"yyyymmdd"``.
    """
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        try:
            return _parse_text(text)
        except (ValueError, IndexError):
            raise DateParseError(
                f"not a date in any MIS format we know (got {value_shape(text)}); expected "
                "yyyy-mm-dd, dd/mm/yyyy, yyyymmdd or an ISO date-time"
            ) from None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, Mapping):
        inner: Any = value.get("date")
        if isinstance(inner, str | date) and not isinstance(inner, bool):
            return parse_date(inner)
        if inner is None and "date" in value:
            return None
        raise DateParseError(
            f"not a date object we know (got {value_shape(value)}); expected a Wonde/Carbon "
            'or Arbor object with a "date" key'
        )
    if isinstance(value, str):  # a str subclass: parse its plain value
        return parse_date(str(value))
    raise DateParseError(f"not a date (got {value_shape(value)})")


_FLAGS: dict[str, bool] = {
    "yes": True,
    "y": True,
    "true": True,
    "t": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "f": False,
    "0": False,
}


def parse_flag(value: object) -> bool | None:
    """Parse a yes/no flag: "Yes"/"No", "Y"/"N", "True"/"False", "T"/"F", "1"/"0",
    booleans, the integers 0 and 1, or ``None`` / blank for "not recorded"."""
    if value is None:
        return None
    if value is True or value is False:
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        flag = _FLAGS.get(text.lower())
        if flag is not None:
            return flag
    elif isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FlagParseError(
        f"not a yes/no flag (got {value_shape(value)}); expected Yes/No, Y/N, True/False or 1/0"
    )
