"""The shared conformance suite, run against the Wonde simulator in every paging mode."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import evolve

from misbridge.source import SourceSchool, SourceSen
from misbridge.testing.conformance import ConformanceSuite
from misbridge_wonde.simulator.render import current_sen


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
    proves_complete = True  # every list is checked against /counts
    paged = ("/students", {"per_page": "10"})

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

    paged = None  # the paging modes' matrices run in the three classes above

    generated_examples = 2

    extra_settings: ClassVar[dict[str, str]] = {"paging": "parallel", "per_page": "9"}


class TestConformanceClassSideTeachers(TestConformance):
    """A school whose MIS links teachers from the class's side only: an employee's own
    classes are empty, the class staff come nested in the student listing."""

    paged = None  # the paging modes' matrices run in the three classes above

    generated_examples = 1

    simulator_options: ClassVar[dict[str, Any]] = {"employee_class_links": False}


class TestConformanceOlderWireForms(TestConformance):
    """The forms the simulator once served and some answers still show: M/F genders,
    ``per_page`` as a string, pagination even on small lists."""

    paged = None  # the paging modes' matrices run in the three classes above

    generated_examples = 1

    simulator_options: ClassVar[dict[str, Any]] = {
        "gender_style": "short",
        "per_page_type": "string",
        "unpaginated_up_to": None,
    }
