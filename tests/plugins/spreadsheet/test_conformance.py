"""The shared conformance suite, through real spreadsheet files the simulator writes."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.model import Dataset
from misbridge.result import OutcomeStatus
from misbridge.testing.conformance import ConformanceSuite
from misbridge.testing.school import sample_school


class TestConformance(ConformanceSuite):
    """One password-protected workbook, a sheet per export (the simulator's default)."""

    mis = "spreadsheet"
    # Every sheet is read to its last row (a workbook's zip directory closes it).
    proves_complete = True
    generated_examples = 3

    def test_round_trip_with_a_marksheet(self) -> None:
        self.assert_round_trip(sample_school(assessments=True))

    def test_round_trip_generated_schools_with_marksheets(self) -> None:
        @settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(seed=st.integers(0, 2**16), students=st.integers(14, 60))
        def round_trip(seed: int, students: int) -> None:
            self.assert_round_trip(sample_school(seed=seed, students=students, assessments=True))

        round_trip()


class TestConformanceCsv(ConformanceSuite):
    """A folder of UTF-8 CSV files, one per export."""

    mis = "spreadsheet"
    proves_complete = True
    generated_examples = 2
    simulator_options: ClassVar[dict[str, Any]] = {"format": "csv"}

    def test_wrong_credentials_are_refused(self) -> None:
        pytest.skip(
            "a CSV file carries no password or account, so nothing can refuse a credential; "
            "password-protected workbooks are refused in TestConformance"
        )

    def test_round_trip_with_a_marksheet(self) -> None:
        self.assert_round_trip(sample_school(seed=3, assessments=True))


class TestConformanceFiles(ConformanceSuite):
    """A folder of workbooks, one per export, without passwords."""

    mis = "spreadsheet"
    proves_complete = True
    generated_examples = 1
    simulator_options: ClassVar[dict[str, Any]] = {"format": "xlsx", "password": None}

    def test_wrong_credentials_are_refused(self) -> None:
        pytest.skip("these workbooks have no password; see TestConformance")


def test_a_denied_dataset_is_an_export_that_is_not_there() -> None:
    suite = TestConformance()
    simulator = suite.simulate(sample_school(students=20, staff=3), deny=[Dataset.STAFF])
    try:
        result = asyncio.run(suite.extract(simulator))
    finally:
        simulator.close()
    outcome = result.outcomes[Dataset.STAFF]
    assert outcome.status is OutcomeStatus.FAILED
    assert "no sheet 'Staff'" in (outcome.message or "")
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
