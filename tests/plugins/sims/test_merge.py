"""Folding the cross product of multi-record-set reports back into entities."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from misbridge.errors import SourceFormatError
from misbridge_sims.merge import Merger
from misbridge_sims.render import _cross
from misbridge_sims.reports import report_by_key

STUDENTS = report_by_key("students")
values = st.text("abcXYZ 019/", min_size=1, max_size=6)


def _subset(captions: tuple[str, ...]) -> st.SearchStrategy[list[dict[str, str]]]:
    row = st.fixed_dictionaries(dict.fromkeys(captions, values))
    # Distinct rows: identical sub-records cannot be told apart in a cross product.
    return st.lists(row, max_size=2, unique_by=lambda r: tuple(sorted(r.items())))


entity = st.tuples(
    st.fixed_dictionaries({"Legal Forename": values, "Year": values}),
    *(_subset(s.captions()) for s in STUDENTS.subsets),
)


@settings(max_examples=60)
@given(st.lists(entity, max_size=4))
def test_cross_product_folds_back_into_each_entity(entities: list[tuple[object, ...]]) -> None:
    merger = Merger(STUDENTS, "misbridge Students")
    got = []
    for n, (main, *subsets) in enumerate(entities):
        for row in _cross({"Person ID": str(n), **main}, subsets):  # type: ignore[dict-item]
            done = merger.push(row)
            if done is not None:
                got.append(done)
    last = merger.close()
    if last is not None:
        got.append(last)
    assert [e.key for e in got] == [str(n) for n in range(len(entities))]
    for merged, (main, *subsets) in zip(got, entities, strict=True):
        assert merged.main == {"Person ID": merged.key, **main}  # type: ignore[dict-item]
        for subset, rows in zip(STUDENTS.subsets, subsets, strict=True):
            assert merged.subs.get(subset.name, []) == rows, subset.name


def test_rows_of_one_entity_must_come_together() -> None:
    merger = Merger(STUDENTS, "misbridge Students")
    for key in ("1", "2"):
        merger.push({"Person ID": key})
    with pytest.raises(SourceFormatError, match="must be sorted by 'Person ID'"):
        merger.push({"Person ID": "1"})


def test_one_entity_cannot_grow_without_bound() -> None:
    merger = Merger(STUDENTS, "misbridge Students", max_subrecords=50)
    for n in range(50):
        merger.push({"Person ID": "1", "Address Block": f"{n} High Street"})
    with pytest.raises(SourceFormatError, match="'1' has more than 50 distinct sub-records"):
        merger.push({"Person ID": "1", "Address Block": "51 High Street"})
    # Repeats of what it already holds cost nothing and are fine.
    merger = Merger(STUDENTS, "misbridge Students", max_subrecords=1)
    for _ in range(1000):
        merger.push({"Person ID": "1", "Address Block": "1 High Street"})
    last = merger.close()
    assert last is not None and last.rows == 1000
    assert last.subs == {"Address": [{"Address Block": "1 High Street"}]}
