"""Fixtures for the Bromcom tests."""

from __future__ import annotations

import pytest

from misbridge.source import SourceSchool
from misbridge.testing.school import sample_school


@pytest.fixture(scope="session")
def school() -> SourceSchool:
    """A small school with every messy case (the simulator never changes it)."""
    return sample_school(students=40, staff=6)
