from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.normalise import DateParseError, FlagParseError, parse_date, parse_flag

D = date(2024, 3, 18)


@pytest.mark.parametrize(
    "value",
    [
        D,
        datetime(2024, 3, 18, 14, 5),
        datetime(2024, 3, 18, 0, 0, tzinfo=UTC),
        "2024-03-18",
        " 2024-03-18 ",
        "2024-03-18T00:00:00",
        "2024-03-18T00:00:00.000Z",
        "2024-03-18T09:30:00+01:00",
        "2024-03-18T09:30:00.123456-05:00",
        "2024-03-18T00:00:00.0000000",  # .NET DateTime (SIMS XmlSerializer)
        "2024-03-18T00:00:00+0000",
        "2024-03-18 14:21:15",  # Arbor Y-m-d H:i:s
        {"entityType": "date", "date": "2024-03-18 00:00:00"},  # Arbor object
        {"date": "2024-03-18 14:21:15.000000", "timezone_type": 3, "timezone": "UTC"},  # Carbon
        "18/03/2024",  # SIMS
        "18/03/2024 00:00:00",  # SIMS CommandReporter
        "20240318",  # Bromcom
    ],
)
def test_every_vendor_format(value: object) -> None:
    assert parse_date(value) == D


@pytest.mark.parametrize("value", [None, "", "   ", {"date": None}])
def test_absent_dates_are_none(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "18/03/24",  # two-digit year: never guessed
        "3/18/2024",  # US order
        "31/02/2012",  # no such day
        "2024-13-01",
        "18-03-2024",
        "2024/03/18",
        "yesterday",
        "0000-00-00 00:00:00",
        "18/03/2024 25:00:00",
        "18/03/2024T00:00",
        {"timezone": "UTC"},
        {"date": 20240318},
        20240318,
        3.5,
        ["2024-03-18"],
    ],
)
def test_unreadable_dates_raise_a_clear_error(value: object) -> None:
    with pytest.raises(DateParseError, match="not a date"):
        parse_date(value)


def test_error_message_shows_the_shape_not_the_value() -> None:
    with pytest.raises(DateParseError) as info:
        parse_date("31/02/2012")
    assert "2012" not in str(info.value)
    assert '"99/99/9999"' in str(info.value)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_every_rendering_of_a_date_parses_back(d: date) -> None:
    renderings: list[object] = [
        d,
        d.isoformat(),
        f"{d.isoformat()}T00:00:00",
        f"{d.isoformat()} 00:00:00",
        {"date": f"{d.isoformat()} 13:14:15.000000", "timezone_type": 3, "timezone": "UTC"},
        {"entityType": "date", "date": f"{d.isoformat()} 00:00:00"},
        d.strftime("%d/%m/%Y"),
        d.strftime("%d/%m/%Y 00:00:00"),
        d.strftime("%Y%m%d"),
        datetime.combine(d, datetime.min.time(), tzinfo=timezone(timedelta(hours=1))),
    ]
    for value in renderings:
        assert parse_date(value) == d, value


@given(st.text(max_size=40) | st.integers() | st.floats() | st.none() | st.binary(max_size=8))
def test_parse_date_never_crashes(value: object) -> None:
    try:
        result = parse_date(value)
    except DateParseError:
        return
    assert result is None or isinstance(result, date)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Yes", True),
        ("No", False),
        ("Y", True),
        ("n", False),
        ("True", True),
        ("False", False),
        ("T", True),
        ("F", False),
        ("1", True),
        ("0", False),
        (" yes ", True),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (None, None),
        ("", None),
    ],
)
def test_flags(value: object, expected: bool | None) -> None:
    assert parse_flag(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, -1, "Yess", 1.0])
def test_unreadable_flags_raise(value: object) -> None:
    with pytest.raises(FlagParseError, match="not a yes/no flag"):
        parse_flag(value)


@given(st.text(max_size=10) | st.integers() | st.none() | st.booleans())
def test_parse_flag_never_crashes(value: object) -> None:
    with contextlib.suppress(FlagParseError):
        assert parse_flag(value) in (True, False, None)
