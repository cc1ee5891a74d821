"""entityFilter building (plugin side) and reading (simulator side)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge_bromcom.filters import (
    all_of,
    any_of,
    current_or_later,
    is_in,
    literal,
    matches_nothing,
    quote,
)
from misbridge_bromcom.sim_filter import FilterError, compile_filter, plain_in_list

COLUMNS = frozenset({"name", "id", "enddate", "flag"})


def matches(text: str, row: dict[str, object], max_terms: int | None = None) -> bool:
    return compile_filter(text, COLUMNS, max_terms)(row)


def test_quotes_are_doubled() -> None:
    assert quote("O'Brien") == "'O''Brien'"
    assert literal("O'Brien") == "'O''Brien'"
    assert literal(42) == "42"
    assert literal("0042") == "'0042'"  # leading zeros are text (admission numbers)
    assert literal(date(2026, 9, 1)) == "'2026-09-01'"


@given(st.text())
def test_a_quoted_value_matches_itself_and_cannot_escape(value: str) -> None:
    """Whatever a name holds, the filter sees one literal equal to it, never more SQL."""
    text = f"name={quote(value)}"
    assert matches(text, {"name": value})
    assert not matches(text, {"name": value + "x"})


@given(
    st.lists(st.integers(1, 10**6), unique=True, max_size=90),
    st.integers(1, 25),
)
def test_batches_cover_every_id_within_the_limit(ids: list[int], limit: int) -> None:
    batches = list(is_in("id", ids, limit))
    assert len(batches) == -(-len(ids) // limit)
    for n, batch in enumerate(batches):
        chunk = ids[n * limit : (n + 1) * limit]
        predicate = compile_filter(batch, COLUMNS, max_terms=limit)  # the cap is respected
        assert all(predicate({"id": i}) for i in chunk)
        assert not predicate({"id": -1})


def test_batches_drop_duplicates_and_refuse_a_silly_limit() -> None:
    assert list(is_in("id", [1, 1, 2], 20)) == ["id in (1,2)"]
    with pytest.raises(ValueError):
        list(is_in("id", [1], 0))


def test_the_simulator_refuses_more_terms_than_the_legacy_limit() -> None:
    too_many = "id in (" + ",".join(str(i) for i in range(21)) + ")"
    with pytest.raises(FilterError, match="21 terms"):
        compile_filter(too_many, COLUMNS, max_terms=20)
    chain = " or ".join(f"id={i}" for i in range(21))
    with pytest.raises(FilterError):
        compile_filter(chain, COLUMNS, max_terms=20)
    assert compile_filter(too_many, COLUMNS, max_terms=None)({"id": 20})


def test_current_or_later_keeps_open_and_recent_rows() -> None:
    text = current_or_later("", "endDate", date(2026, 9, 1))
    assert text == "endDate>='2026-09-01' or isnull(endDate,'')=''"
    assert matches(text, {"enddate": None})
    assert matches(text, {"enddate": date(2026, 10, 1)})
    assert matches(text, {"enddate": date(2026, 9, 1)})
    assert not matches(text, {"enddate": date(2026, 8, 31)})


def test_sql_server_style_comparisons() -> None:
    assert matches("name='SMITH'", {"name": "Smith"})  # case-insensitive collation
    assert matches("name like 'Sm%'", {"name": "smith"})
    assert not matches("name not like 'Sm_th'", {"name": "Smith"})
    assert matches("enddate>'20260831'", {"enddate": date(2026, 9, 1)})  # legacy dates
    assert matches("id=42", {"id": 42}) and matches("id='42'", {"id": 42})
    assert matches("flag='True'", {"flag": True}) and not matches("flag=1", {"flag": False})
    assert not matches("name='x'", {"name": None})  # NULL equals nothing
    assert matches("name is null", {"name": None})
    assert matches("not (id=1) and (id=2 or id=3)", {"id": 3})
    assert matches(matches_nothing("id"), {"id": 1}) is False
    assert all_of("id=1", "", "name='a'") == "(id=1) and (name='a')"
    assert any_of(["id=1"]) == "id=1"


@pytest.mark.parametrize(
    "bad",
    ["id=", "id==1", "(id=1", "id=1)", "nosuch=1", "id in ()", "frob(id,1)=1", "id not =1", "'"],
)
def test_unreadable_filters_are_refused(bad: str) -> None:
    with pytest.raises(FilterError):
        compile_filter(bad, COLUMNS)


def test_an_empty_filter_matches_everything() -> None:
    assert compile_filter("", COLUMNS)({}) and compile_filter(None, COLUMNS)({})


ids = st.one_of(st.integers(0, 50), st.text(alphabet="AbS0'9", min_size=1, max_size=4))


@given(st.lists(ids, min_size=1, max_size=20), st.lists(ids, max_size=30))
def test_the_simulator_s_id_index_agrees_with_the_filter(
    wanted: list[int | str], rows: list[int | str]
) -> None:
    """The simulator answers batched id lists from an index: same rows as evaluating."""
    (text,) = is_in("id", [str(v) for v in wanted], 20)
    parsed = plain_in_list(text)
    assert parsed is not None and parsed[0] == "id"
    predicate = compile_filter(text, COLUMNS)
    for value in rows:
        assert (str(value).lower() in parsed[1]) == predicate({"id": value})


def test_only_plain_id_lists_use_the_index() -> None:
    assert plain_in_list("id in (1,'a''b')") == ("id", ["1", "a'b"])
    for other in ("id in (1) and name='x'", "id not in (1)", "id=1", "", None, "id in (x)"):
        assert plain_in_list(other) is None
