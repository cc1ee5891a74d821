"""Assessment grade types: the usual spellings become one word; anything else is kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.normalise import Normaliser
from misbridge.normalise.grades import GRADE_TYPES, grade_type
from misbridge.normalise.rules import clean_text
from misbridge.source import SourceAssessment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Working At", "working-at"),
        ("  working_at  GRADE ", "working-at"),
        ("WAG", "working-at"),
        ("Predicted Grade", "predicted"),
        ("Forecast", "predicted"),
        ("Expected", "expected"),
        ("MTG", "target"),
        ("Target", "target"),
        ("Effort", "Effort"),
        ("  Attitude  to   learning ", "Attitude to learning"),
        ("", None),
        (None, None),
    ],
)
def test_grade_types(raw: str | None, expected: str | None) -> None:
    assert grade_type(raw) == expected


@given(st.text(max_size=30))
def test_a_grade_type_is_canonical_or_the_trimmed_text(raw: str) -> None:
    found = grade_type(raw)
    if found is None:
        assert not " ".join(raw.split())
    else:
        assert found in GRADE_TYPES or found == clean_text(raw)
        assert grade_type(found) == found  # idempotent


def test_an_assessment_without_aspect_or_result_is_named() -> None:
    record = SourceAssessment("P1", aspect=" ", result=None, grade_type="Target")
    model, errors = Normaliser(mis="toy").normalise("assessments", record)
    assert model is None
    assert [(e.code, e.field, e.mis_id) for e in errors] == [
        ("MB2003", "aspect", "P1"),
        ("MB2003", "result", "P1"),
    ]
    assert "assessment result of student MIS id P1" in errors[0].message
