"""The shared conformance suite, in both Bromcom modes."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import evolve

from misbridge.hooktypes import Simulator
from misbridge.source import SourceSchool, SourceSen
from misbridge.testing.conformance import ConformanceSuite
from misbridge_bromcom.sim_data import current_sen


def carried(school: SourceSchool) -> SourceSchool:
    """What Bromcom's student flat view can carry of ``school``: the SEN provision in
    force (provisionName), without its dates or earlier provisions."""
    students = tuple(
        evolve(s, sen=(SourceSen(code=current_sen(s.sen)),) if s.sen else ())
        for s in school.students
    )
    return evolve(school, students=students)


class _BromcomSuite(ConformanceSuite):
    """The simulator serves the whole school; we expect what the wire can carry of it."""

    mis = "bromcom"
    #: Compare with what StudentFlatView carries of the school rather than the school.
    flat_view: ClassVar[bool] = True
    _served: SourceSchool | None = None

    def assert_round_trip(self, school: SourceSchool) -> None:
        self._served = school
        try:
            super().assert_round_trip(carried(school) if self.flat_view else school)
        finally:
            self._served = None

    def simulate(self, school: SourceSchool, **options: Any) -> Simulator:
        return super().simulate(self._served or school, **options)


class TestPartnerConformance(_BromcomSuite):
    """Partner mode: what it lacks comes from the plugin's own declaration."""


class TestSoapConformance(_BromcomSuite):
    """The legacy service also gives every contact and the SEN history, with dates."""

    extra_settings: ClassVar[dict[str, str]] = {"mode": "soap"}
    flat_view = False


class TestSoapFlatConformance(_BromcomSuite):
    """The legacy service without the person-detail entities: the flat view only."""

    extra_settings: ClassVar[dict[str, str]] = {"mode": "soap", "legacy_contacts": "no"}
