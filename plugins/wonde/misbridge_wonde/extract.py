"""The datasets: which Wonde lists each one reads, with which includes.

Each dataset is an async generator of source records. A dataset that reads several
lists (groups: groups, classes and two membership lists) reads them concurrently and
yields records as they come (:func:`merge`), so its wall time is that of its slowest
list, not the sum.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import structlog

from misbridge.model import Dataset, GroupKind, Role
from misbridge.source import (
    SourceDeletion,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)
from misbridge_wonde import mapping
from misbridge_wonde.client import DELETED_TYPES, WondeSession

__all__ = [
    "MEMBER_INCLUDES",
    "STAFF_INCLUDES",
    "STUDENT_INCLUDES",
    "groups",
    "merge",
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
_DONE = object()


async def merge(*sources: AsyncIterator[T]) -> AsyncIterator[T]:
    """Items of every source as they arrive; the first error stops them all."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=16)

    async def pump(source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                await queue.put(item)
        except Exception as exc:  # handed to the consumer, which re-raises it
            await queue.put(_Failure(exc))
            return
        finally:
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
        await queue.put(_DONE)

    tasks = [asyncio.create_task(pump(s)) for s in sources]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, _Failure):
                raise item.error
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _Failure:
    def __init__(self, error: Exception) -> None:
        self.error = error


async def deletions(session: WondeSession, dataset: Dataset) -> AsyncIterator[SourceDeletion]:
    """In a delta read, the records of ``dataset`` Wonde lists as deleted since then: the
    only records a delta may disable (``/deletions``)."""
    for row in await session.deleted(dataset):
        _, record, kind = DELETED_TYPES[str(row.get("type"))]
        yield SourceDeletion(
            record,
            str(row.get("id") or ""),
            GroupKind(kind) if kind else None,
            row.get("deleted_at"),
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
    keep_former = session.settings.include_former_staff
    left = 0
    await session.report_total("employees", Dataset.STAFF)
    async for batch in session.records("employees", STAFF_INCLUDES, Dataset.STAFF):
        for obj in batch:
            if keep_former or mapping.is_current_employee(obj):
                yield mapping.employee(obj, names)
            else:
                left += 1
    if left:
        log.info("wonde.former_staff_skipped", count=left)
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


async def _classes(session: WondeSession) -> AsyncIterator[Batch]:
    async for batch in session.records("classes", ("subject",), Dataset.GROUPS):
        yield [mapping.class_group(obj) for obj in batch]


async def _memberships(session: WondeSession, path: str, role: Role) -> AsyncIterator[Batch]:
    kinds = session.settings.names.group_kinds()
    async for batch in session.records(path, MEMBER_INCLUDES, Dataset.GROUPS):
        yield [m for obj in batch for m in mapping.memberships(obj, role, kinds)]


async def groups(
    session: WondeSession,
) -> AsyncIterator[SourceGroup | SourceMembership | SourceDeletion]:
    async for batch in merge(
        _plain_groups(session),
        _classes(session),
        _memberships(session, "students", Role.STUDENT),
        _memberships(session, "employees", Role.STAFF),
    ):
        for record in batch:
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
