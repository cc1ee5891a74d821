"""Benchmark the Arbor plugin against its simulator on loopback (see bench/harness.py).

Ours: the default settings (GraphQL bulk reads, every entity of a dataset at once,
datasets at once, eight connections). Baseline: what the official SDK does (Arbor's
REST listings return references only, so each object costs one request,
fetched one at a time, one dataset after another).

Critical path: the credentials probe, then the longest chain of GraphQL pages. Arbor
sends no total and no next link, so page n+1 is only known to exist once page n came
back full: an entity of n rows is a chain of n // page_size + 1 requests.

    python bench/bench_arbor.py                  # default school: 2000 pupils, 40 ms
    python bench/bench_arbor.py --students 300   # quicker (the baseline is slow)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchCase, main

from misbridge.model import GroupKind, Role
from misbridge.source import SourceSchool

PAGE_SIZE = 500

_MEMBERSHIP_ENTITY = {
    GroupKind.YEAR: "AcademicLevel",
    GroupKind.REGISTRATION: "RegistrationForm",
    GroupKind.HOUSE: "House",
    GroupKind.CLASS: "TeachingGroup",
}


def critical_path(school: SourceSchool) -> int:
    """Requests in the longest chain that must wait for one another (roster datasets)."""
    rows: Counter[str] = Counter()
    rows["AcademicYear"] = len(school.academic_years)
    rows["AcademicLevel"] = len(school.year_groups)
    rows["Staff"] = len(school.staff)
    rows["Student"] = len(school.students)
    for group in school.groups:
        rows[_MEMBERSHIP_ENTITY[group.kind]] += 1
    for m in school.memberships:
        suffix = "Membership" if m.role is Role.STUDENT else "Tutor"
        rows[_MEMBERSHIP_ENTITY[m.group_kind] + suffix] += 1
    longest = max(n // PAGE_SIZE + 1 for n in rows.values())
    return 1 + longest


CASE = BenchCase(
    mis="arbor",
    students=2000,
    staff=150,
    latency=0.040,
    critical_path=critical_path,
    settings={"page_size": str(PAGE_SIZE)},
    baseline_settings={"read_mode": "rest", "http_concurrency": "1"},
)

if __name__ == "__main__":
    import logging

    import structlog

    # Per-request debug lines would cost the client CPU the figures are about.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    main(CASE)
