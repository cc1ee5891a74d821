"""The shared conformance suite, in both Bromcom modes."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import evolve

from misbridge.hooktypes import Simulator
from misbridge.source import SourceSchool, SourceSen
from misbridge.testing.conformance import ConformanceSuite
from misbridge_bromcom.sim_data import current_sen

# Collections have a name and a description; there is no separate short code
# (the OData names in awdimmick/BetterBromcom: CollectionName, CollectionDescription).
BOTH = frozenset({"Group.code"})

# StudentFlatView (bromcom-essentials-dotnet ApiContracts.cs) has no address or telephone
# of the pupil (contact1..3 are the parents'), and one studentEmail without its type or
# Primary/Main flags. The legacy service reads them from PersonAddresses, PersonTelephones
# and Emails.
PARTNER_ONLY = frozenset(
    {
        "Student.home_address",
        "Student.home_telephone",
        "Student.mobile_telephone",
        "Student.work_email",
        "Student.email_preference",
    }
)


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
    unsupported = BOTH | PARTNER_ONLY


class TestSoapConformance(_BromcomSuite):
    """The legacy service also gives every contact and the SEN history, with dates."""

    extra_settings: ClassVar[dict[str, str]] = {"mode": "soap"}
    unsupported = BOTH
    flat_view = False


class TestSoapFlatConformance(_BromcomSuite):
    """The legacy service without the person-detail entities: the flat view only."""

    extra_settings: ClassVar[dict[str, str]] = {"mode": "soap", "legacy_contacts": "no"}
    unsupported = BOTH | PARTNER_ONLY
