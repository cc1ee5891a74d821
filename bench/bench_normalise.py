"""Normalise + validate throughput on the sample school, one core.

    python bench/bench_normalise.py [--students 20000] [--repeat 5]

Prints records per second for students (the figure the issue sets a goal for:
>= 50,000/s), staff and memberships, normalise alone and normalise+validate. Students
are rendered in several vendor encodings (date objects, SIMS "dd/mm/yyyy HH:MM:SS",
Wonde/Carbon date objects, "Yes"/"No" flags) so that the parsers are exercised too.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence
from datetime import date

from attrs import evolve

from misbridge.model import Dataset
from misbridge.normalise import Normaliser, NormaliseSettings
from misbridge.source import RawDate, RawFlag, SourceRecord, SourceSchool, SourceStudent
from misbridge.validate import Validator

GOAL = 50_000


def _school(students: int) -> SourceSchool:
    try:
        from misbridge.sample import sample_school
    except ImportError:  # the testing kit is optional at bench time
        raise SystemExit("misbridge.testing.school.sample_school is needed") from None
    return sample_school(seed=1, students=students, staff=max(24, students // 15))


def _same(d: RawDate) -> RawDate:
    return d


def _vendor_renderings(students: Sequence[SourceStudent]) -> list[SourceStudent]:
    """The same pupils as SIMS, Wonde and Arbor would send their dates and flags."""

    def sims(d: RawDate) -> RawDate:
        return d.strftime("%d/%m/%Y 00:00:00") if isinstance(d, date) else d

    def carbon(d: RawDate) -> RawDate:
        if not isinstance(d, date):
            return d
        return {"date": f"{d.isoformat()} 00:00:00.000000", "timezone_type": 3, "timezone": "UTC"}

    def yes_no(f: RawFlag) -> RawFlag:
        return None if f is None else ("Yes" if f else "No")

    out: list[SourceStudent] = []
    for i, s in enumerate(students):
        render: Callable[[RawDate], RawDate] = (_same, sims, carbon)[i % 3]
        out.append(
            evolve(
                s,
                date_of_birth=render(s.date_of_birth),
                admission_date=render(s.admission_date),
                fsm=yes_no(s.fsm) if i % 2 else s.fsm,
                eal=yes_no(s.eal) if i % 2 else s.eal,
            )
        )
    return out


def _rate(run: Callable[[], None], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return count / best


def bench(records: Sequence[SourceRecord], dataset: Dataset, repeat: int) -> tuple[float, float]:
    normaliser = Normaliser(NormaliseSettings(), mis="sims")
    validator = Validator("roster", mis="sims")
    normalise, validate = normaliser.normalise, validator.validate

    def only_normalise() -> None:
        for record in records:
            normalise(dataset, record)

    def both() -> None:
        for record in records:
            model, errors = normalise(dataset, record)
            if model is not None:
                errors += validate(dataset, model)

    return _rate(only_normalise, len(records), repeat), _rate(both, len(records), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    school = _school(args.students)
    students = _vendor_renderings(school.students)
    rows: list[tuple[str, Dataset, Sequence[SourceRecord]]] = [
        ("students", Dataset.STUDENTS, students),
        ("staff", Dataset.STAFF, list(school.staff)),
        ("memberships", Dataset.GROUPS, list(school.memberships)),
    ]
    print(f"sample school: {len(students)} students, one core, best of {args.repeat}")
    print(f"{'records':<12} {'count':>8} {'normalise/s':>14} {'+validate/s':>14}")
    student_rate = 0.0
    for name, dataset, records in rows:
        alone, both = bench(records, dataset, args.repeat)
        if name == "students":
            student_rate = both
        print(f"{name:<12} {len(records):>8} {alone:>14,.0f} {both:>14,.0f}")
    verdict = "meets" if student_rate >= GOAL else "misses"
    print(f"students normalise+validate: {student_rate:,.0f}/s ({verdict} the {GOAL:,}/s goal)")


if __name__ == "__main__":
    main()
