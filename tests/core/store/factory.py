"""Model records and extract results for store tests, built directly (no MIS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from attrs import evolve

from misbridge.errors import RecordError
from misbridge.model import (
    AcademicYear,
    Dataset,
    ExamResult,
    Group,
    GroupKind,
    Membership,
    Photo,
    Role,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.result import DatasetOutcome, ExtractResult, ModelRecord, OutcomeStatus
from misbridge.store import Store

TODAY = date(2026, 10, 1)
COMPLETE, PARTIAL, FAILED = OutcomeStatus.COMPLETE, OutcomeStatus.PARTIAL, OutcomeStatus.FAILED


def student(n: int, **changes: Any) -> Student:
    record = Student(
        mis_id=f"S{n}",
        admission_number=f"{n:06d}",
        upn=f"A{n:012d}",
        legal_forename=f"Forename{n}",
        legal_surname=f"Surname{n}",
        gender="F" if n % 2 else "M",
        date_of_birth=date(2012, 1 + n % 12, 1 + n % 28),
        eal=n % 3 == 0,
        fsm=n % 5 == 0,
        year_group=str(7 + n % 5),
        personal_email=f"pupil{n}@example.org",
        username=f"{n:06d}",
    )
    return evolve(record, **changes)


def staff(n: int, **changes: Any) -> StaffMember:
    record = StaffMember(
        mis_id=f"T{n}",
        title="Ms",
        forename=f"Teacher{n}",
        surname=f"Staffname{n}",
        work_email=f"t{n}@school.example",
        staff_code=f"T{n:02d}",
    )
    return evolve(record, **changes)


def group(n: int, kind: GroupKind = GroupKind.CLASS, **changes: Any) -> Group:
    return evolve(Group(mis_id=f"G{n}", name=f"Group {n}", kind=kind, subject="Maths"), **changes)


def membership(
    group_n: int, student_n: int, kind: GroupKind = GroupKind.CLASS, **changes: Any
) -> Membership:
    record = Membership(
        group_mis_id=f"G{group_n}",
        group_kind=kind,
        person_mis_id=f"S{student_n}",
        role=Role.STUDENT,
        start=date(2026, 9, 1),
    )
    return evolve(record, **changes)


def years() -> list[ModelRecord]:
    return [
        AcademicYear("AY2026", "2026/2027", date(2026, 9, 1), date(2027, 7, 31)),
        YearGroup("YG7", "Year 7", "7"),
    ]


def photo(student_n: int, data: bytes = b"\x89PNG\r\n\x1a\nfake") -> Photo:
    return Photo(
        person_mis_id=f"S{student_n}", role=Role.STUDENT, media_type="image/png", data=data
    )


def result_of(student_n: int, grade: str = "7") -> ExamResult:
    return ExamResult(f"S{student_n}", "Summer 2026", "GCSE", "Maths", grade, date(2026, 8, 20))


def extract(
    mis: str = "wonde",
    records: Mapping[Dataset, Sequence[ModelRecord]] | None = None,
    *,
    status: Mapping[Dataset, OutcomeStatus] | None = None,
    errors: Iterable[RecordError] = (),
) -> ExtractResult:
    """An extract of ``records``; every dataset given is COMPLETE unless ``status`` says."""
    result = ExtractResult(mis=mis, started=datetime(2026, 10, 1, 2, 0, tzinfo=UTC))
    for dataset, items in (records or {}).items():
        result.records[dataset] = list(items)
        outcome = (status or {}).get(dataset, COMPLETE)
        result.outcomes[dataset] = DatasetOutcome(dataset, outcome, len(items))
    for dataset, outcome in (status or {}).items():
        if dataset not in result.outcomes:
            result.outcomes[dataset] = DatasetOutcome(dataset, outcome, 0)
    result.errors = list(errors)
    return result


def school(
    students: Iterable[int] = range(20), *, mis: str = "wonde", **kwargs: Any
) -> ExtractResult:
    """A small whole school: years, 3 staff, the students, 2 groups with memberships."""
    people = list(students)
    return extract(
        mis,
        {
            Dataset.YEARS: years(),
            Dataset.STAFF: [staff(n) for n in range(3)],
            Dataset.STUDENTS: [student(n) for n in people],
            Dataset.GROUPS: [group(0), group(1, GroupKind.REGISTRATION)]
            + [
                membership(n % 2, n, GroupKind.CLASS if n % 2 == 0 else GroupKind.REGISTRATION)
                for n in people
            ],
        },
        **kwargs,
    )


def snapshot(store: Store, *, history: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (run history optional), for exact before/after checks."""
    from misbridge.store import schema

    skip = set() if history else {"run", "run_error", "plan", "audit"}
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store._engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            found[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return found


def rows(store: Store, table: str, **where: Any) -> list[dict[str, Any]]:
    from misbridge.store import schema

    t = schema.metadata.tables[table]
    query = sa.select(t).where(*(t.c[k] == v for k, v in where.items()))
    with store._engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def student_row(store: Store, mis_id: str, mis: str = "wonde") -> dict[str, Any]:
    """The student row the store holds for ``mis_id``, with its account."""
    (link,) = rows(store, "mis_id", entity="student", mis=mis, mis_id=mis_id)
    (row,) = rows(store, "student", id=link["internal_id"])
    (account,) = rows(store, "account", person_id=row["id"])
    return {**row, "account": account}
