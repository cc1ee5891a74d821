"""The datasets: which Wonde lists each one reads, with which includes.

Each dataset is an async generator of source records. A dataset that reads several
lists (groups: groups, classes and two membership lists) reads them concurrently and
yields records as they come (:func:`merge`), so its wall time is that of its slowest
list, not the sum.

A class's staff come from two sides: each employee's ``classes``, and each class's
``employees`` (a school whose MIS links teachers from the class's side gives them only
there). The class side is read from the class list (``include=subject,employees``: every
class once, those without pupils too) or, with ``class_staff=students``, nested in the
student listing (``include=classes.employees``, as public integrations read it: about
twice the bytes of the whole extract, and classes without pupils are not seen). Each
membership is yielded once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

import structlog

from misbridge.plugin import (
    Dataset,
    GroupKind,
    RecordError,
    Role,
    Severity,
    SourceDeletion,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
    merge,
    record_identity,
)
from misbridge_wonde import mapping
from misbridge_wonde.schema import FieldPath
from misbridge_wonde.session import DELETED_TYPES, WondeSession

__all__ = [
    "CLASS_INCLUDES",
    "MEMBER_INCLUDES",
    "STAFF_CODE_NOT_FOUND",
    "STAFF_INCLUDES",
    "STUDENT_INCLUDES",
    "STUDENT_MEMBER_INCLUDES",
    "groups",
    "photos",
    "staff",
    "students",
    "years",
]

log = structlog.get_logger()

T = TypeVar("T")

STUDENT_INCLUDES = ("contact_details", "education_details", "extended_details", "year")
STAFF_INCLUDES = ("employment_details", "contact_details")
MEMBER_INCLUDES = ("groups", "classes")
STUDENT_MEMBER_INCLUDES = (*MEMBER_INCLUDES, "classes.employees")
CLASS_INCLUDES = ("subject", "employees")
#: The warning for a staff member whose code is not where ``staff_code_field`` says
#: (documented in docs/plugins/wonde.md).
STAFF_CODE_NOT_FOUND = "WONDE1001"


async def deletions(session: WondeSession, dataset: Dataset) -> AsyncIterator[SourceDeletion]:
    """In a delta read, the records of ``dataset`` Wonde lists as deleted since then and
    not restored since: the only records a delta may disable (``/deletions``)."""
    for row in await session.deleted(dataset):
        _, record, kind = DELETED_TYPES[str(row.get("type"))]
        yield SourceDeletion(
            record,
            str(row.get("id") or ""),
            GroupKind(kind) if kind else None,
            row.get("deleted_at"),
        )


def staff_includes(code_at: FieldPath) -> tuple[str, ...]:
    """What the staff list asks for: the details, and where the staff code is."""
    extra = (code_at.include,) if code_at.include and code_at.include not in STAFF_INCLUDES else ()
    return (*STAFF_INCLUDES, *extra)


def code_not_found(staff: SourceStaff, code_at: FieldPath) -> RecordError:
    """A warning for a staff member whose answer holds no ``code_at``: their staff code
    is missing because of where we look, not because the MIS has none."""
    mis_id, label = record_identity(staff)
    where = f"'{code_at.key}' in its {code_at.include}" if code_at.include else f"'{code_at}'"
    return RecordError(
        dataset=Dataset.STAFF.value,
        mis_id=mis_id,
        field="staff_code",
        code=STAFF_CODE_NOT_FOUND,
        message=(
            f"Wonde's answer for {label} has no {where}, so the staff code was left out: "
            "if Wonde gives it elsewhere, set staff_code_field (e.g. "
            "'employment_details.teacher_number'); if the include is null, grant its scope"
        ),
        severity=Severity.WARNING,
        record_label=label,
        mis="wonde",
    )


async def years(session: WondeSession) -> AsyncIterator[SourceYearGroup]:
    # Wonde has no academic-year list; year groups are groups of the year type.
    kinds = session.settings.names.group_kinds()
    async for batch in session.records("groups", (), Dataset.YEARS):
        for obj in batch:
            if mapping.group_kind(obj, kinds) is GroupKind.YEAR:
                yield mapping.year_group(obj)


async def staff(session: WondeSession) -> AsyncIterator[SourceStaff | SourceDeletion]:
    names = session.settings.names
    code_at = session.settings.staff_code_field
    keep_former = session.settings.include_former_staff
    left = 0
    lost: list[RecordError] = []
    await session.report_total("employees", Dataset.STAFF)
    async for batch in session.records("employees", staff_includes(code_at), Dataset.STAFF):
        for obj in batch:
            if keep_former or mapping.is_current_employee(obj):
                member, found = mapping.employee(obj, names, code_at)
                if not found:
                    lost.append(code_not_found(member, code_at))
                yield member
            else:
                left += 1
    if left:
        log.info("wonde.former_staff_skipped", count=left)
    if lost:
        report = session.context.read(Dataset.STAFF)
        for error in lost:
            report.problem(error)  # reported with the normaliser's own, by the core
        log.warning(
            "wonde.staff_code_not_found",
            count=len(lost),
            field=str(code_at),
            mis_ids=[e.mis_id for e in lost[:20]],
            hint="set staff_code_field to where this Wonde account gives the staff code",
        )
    async for deleted in deletions(session, Dataset.STAFF):
        yield deleted


async def students(session: WondeSession) -> AsyncIterator[SourceStudent | SourceDeletion]:
    names = session.settings.names
    await session.report_total("students", Dataset.STUDENTS)
    async for batch in session.records("students", STUDENT_INCLUDES, Dataset.STUDENTS):
        for obj in batch:
            yield mapping.student(obj, names)
    async for deleted in deletions(session, Dataset.STUDENTS):
        yield deleted


Batch = list[SourceGroup | SourceMembership]


async def _plain_groups(session: WondeSession) -> AsyncIterator[Batch]:
    kinds = session.settings.names.group_kinds()
    other: dict[str, int] = {}
    async for batch in session.records("groups", (), Dataset.GROUPS):
        found: Batch = []
        for obj in batch:
            kind = mapping.group_kind(obj, kinds)
            if kind is None:
                label = str(obj.get("type"))
                other[label] = other.get(label, 0) + 1
            elif kind is not GroupKind.YEAR:  # year groups belong to the years dataset
                found.append(mapping.group(obj, kind))
        yield found
    if other:
        log.warning(
            "wonde.group_types_ignored",
            types=other,
            hint="not registration groups, houses or years; set wire_names if they are",
        )


def member_includes(session: WondeSession) -> dict[str, tuple[str, ...]]:
    """The includes of the lists the groups dataset reads, as ``class_staff`` says."""
    nested = session.settings.class_staff == "students"
    return {
        "classes": ("subject",) if nested else CLASS_INCLUDES,
        "students": STUDENT_MEMBER_INCLUDES if nested else MEMBER_INCLUDES,
        "employees": MEMBER_INCLUDES,
    }


async def _classes(session: WondeSession) -> AsyncIterator[Batch]:
    include = member_includes(session)["classes"]
    async for batch in session.records("classes", include, Dataset.GROUPS):
        found: Batch = []
        for obj in batch:
            found.append(mapping.class_group(obj))
            found += mapping.class_staff(obj)
        yield found


async def _memberships(session: WondeSession, path: str, role: Role) -> AsyncIterator[Batch]:
    kinds = session.settings.names.group_kinds()
    include = member_includes(session)[path]
    async for batch in session.records(path, include, Dataset.GROUPS):
        yield [m for obj in batch for m in mapping.memberships(obj, role, kinds)]


async def groups(
    session: WondeSession,
) -> AsyncIterator[SourceGroup | SourceMembership | SourceDeletion]:
    # A teacher's class comes from their own classes and again from the class's side
    # (nested: once with every pupil of the class): yield each one once.
    taught: set[tuple[str, str]] = set()
    async for batch in merge(
        _plain_groups(session),
        _classes(session),
        _memberships(session, "students", Role.STUDENT),
        _memberships(session, "employees", Role.STAFF),
    ):
        for record in batch:
            if (
                type(record) is SourceMembership
                and record.role is Role.STAFF
                and record.group_kind is GroupKind.CLASS
            ):
                key = (record.group_mis_id, record.person_mis_id)
                if key in taught:
                    continue
                taught.add(key)
            yield record
    async for deleted in deletions(session, Dataset.GROUPS):
        yield deleted


async def _photos_of(
    session: WondeSession, path: str, role: Role
) -> AsyncIterator[list[SourcePhoto]]:
    async for batch in session.records(path, ("photo",), Dataset.PHOTOS):
        yield [p for obj in batch if (p := mapping.photo(obj, role)) is not None]


async def photos(session: WondeSession) -> AsyncIterator[SourcePhoto]:
    async for batch in merge(
        _photos_of(session, "students", Role.STUDENT),
        _photos_of(session, "employees", Role.STAFF),
    ):
        for record in batch:
            yield record
