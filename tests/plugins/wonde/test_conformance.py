"""The shared conformance suite, run against the Wonde simulator in every paging mode."""

from __future__ import annotations

from typing import ClassVar

from attrs import evolve

from misbridge.source import SourceSchool, SourceSen
from misbridge.testing.conformance import ConformanceSuite
from misbridge_wonde.simulator.render import current_sen

WONDE_UNSUPPORTED = frozenset(
    {
        # mis-apis.md 1.2 lists no academic-year endpoint: Wonde does not give them.
        "AcademicYear",
        # Year groups are groups (mis-apis.md 1.3: name, code, type, description, notes,
        # division): they carry no start or end dates.
        "YearGroup.start",
        "YearGroup.end",
        # "no evidence that Wonde returns per-membership dates" (mis-apis.md 1.3).
        "Membership.start",
        "Membership.end",
        # contact_details give one email per type plus the Primary one; the Main flag,
        # which decides the preference when no email is Primary, is not on the wire.
        "Student.email_preference",
    }
)


def as_wonde_carries(school: SourceSchool) -> SourceSchool:
    """The school as far as Wonde can carry it: ``extended_details.sen_status`` is the
    current SEN code with no history and no provision dates, so a pupil's SEN is compared
    (and validated) as that one undated code on both sides."""
    students = tuple(
        evolve(s, sen=(SourceSen(code),) if (code := current_sen(s)) else ())
        for s in school.students
    )
    return evolve(school, students=students)


class TestConformance(ConformanceSuite):
    mis = "wonde"
    unsupported = WONDE_UNSUPPORTED

    def assert_round_trip(self, school: SourceSchool) -> None:
        super().assert_round_trip(as_wonde_carries(school))


class TestConformanceFollowNext(TestConformance):
    """The official clients' way (one page after another) must read the same school."""

    generated_examples = 2

    extra_settings: ClassVar[dict[str, str]] = {"paging": "follow-next", "per_page": "default"}


class TestConformanceCursor(TestConformance):
    """Cursor paging, with small pages so that every list spans several."""

    generated_examples = 2

    extra_settings: ClassVar[dict[str, str]] = {"paging": "cursor", "per_page": "7"}


class TestConformanceParallelSmallPages(TestConformance):
    """Parallel pages (counts, then page=N at once) with pages small enough to be many."""

    generated_examples = 2

    extra_settings: ClassVar[dict[str, str]] = {"paging": "parallel", "per_page": "9"}
