"""Benchmark the Wonde plugin against its simulator on loopback (see bench/README.md).

    python bench/bench_wonde.py                      # 2,000 students, 150 staff, 40 ms
    python bench/bench_wonde.py --latency-ms 80 --json
    python bench/bench_wonde.py --class-staff students   # class staff nested in the pupils

*Ours* is the plugin's default: datasets at once, ``/counts`` then every ``page=N`` at
once, 200 records a page, at most ``http_concurrency`` (8) requests in flight. The
*baseline* is the official clients' way: follow ``next`` one page at a time, one dataset
after another, with the server's default page size (they send no ``per_page``).
``--class-staff students`` runs both with ``class_staff=students`` (a class's teachers
read nested in the student listing rather than from the class list), to measure what
that costs.
"""

from __future__ import annotations

import argparse
import math

from attrs import evolve
from harness import BenchCase, main  # bench/ is on the path: run as a script

from misbridge.http import HttpPolicy
from misbridge.model import GroupKind
from misbridge.source import SourceSchool
from misbridge_wonde.settings import CLASS_STAFF_SOURCES

PER_PAGE = 200
CONCURRENCY = HttpPolicy().concurrency


def list_pages(school: SourceSchool, per_page: int = PER_PAGE) -> list[int]:
    """Pages of every list our default extract reads (years, staff, students, groups)."""
    plain_groups = sum(1 for g in school.groups if g.kind is not GroupKind.CLASS)
    groups = plain_groups + len(school.year_groups)
    classes = len(school.groups) - plain_groups

    def pages(n: int) -> int:
        return max(1, math.ceil(n / per_page))

    return [
        pages(groups),  # years
        pages(len(school.staff)),  # staff
        pages(len(school.students)),  # students
        pages(groups),  # groups: the groups themselves
        pages(classes),  # groups: classes with their subject
        pages(len(school.students)),  # groups: students' memberships
        pages(len(school.staff)),  # groups: staff memberships
    ]


#: With an unbounded pool: the school (token, region), then /counts, then any page.
DEPENDENCY_CHAIN = 3


def critical_path(school: SourceSchool) -> int:
    """The chain with our pool: the school, /counts, then the pages, which can only go
    ``CONCURRENCY`` at a time, so they must wait for one another in that many rounds."""
    return 2 + math.ceil(sum(list_pages(school)) / CONCURRENCY)


CASE = BenchCase(
    mis="wonde",
    students=2000,
    staff=150,
    latency=0.040,
    critical_path=critical_path,
    baseline_settings={"paging": "follow-next", "per_page": "default"},
)


if __name__ == "__main__":
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--class-staff", choices=CLASS_STAFF_SOURCES, default="classes")
    known, rest = own.parse_known_args()
    report = main(evolve(CASE, settings={"class_staff": known.class_staff}), rest)
    floor = DEPENDENCY_CHAIN * report.case.latency
    print(
        f"dependency chain with no pool limit: {DEPENDENCY_CHAIN} requests = {floor:.2f} s; "
        f"wall / that: {report.ours.wall_s / floor:.2f}"
    )
