"""The extract: which entities make each dataset, read concurrently and streamed.

Within a dataset every entity is read at once (bounded by the client's connection
pool), and records are yielded as pages arrive, so a dataset streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from misbridge.plugin import (
    Dataset,
    ExtractContext,
    PermissionCheck,
    PermissionDeniedError,
    Role,
    SourceAcademicYear,
    SourceDeletion,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
    TaskSet,
    merge,
)
from misbridge_arbor import changes, mapping
from misbridge_arbor.photos import media_type
from misbridge_arbor.selection import Spec, graphql_query, with_revisions
from misbridge_arbor.settings import ArborConfig
from misbridge_arbor.staff_status import (
    CONTRACT_SPEC,
    STAFF_STATUS_SPEC,
    former_from_contracts,
    former_from_fields,
)

if TYPE_CHECKING:
    from misbridge_arbor.session import ArborSession

__all__ = [
    "check",
    "exam_results",
    "groups",
    "photos",
    "staff",
    "students",
    "years",
]

log = structlog.get_logger()
T = TypeVar("T")


async def merged(*sources: AsyncIterator[list[T]]) -> AsyncIterator[T]:
    """Items of several page streams as their pages arrive; the first failure stops all."""
    async for page in merge(*sources, buffer=8):
        for record in page:
            yield record


async def _mapped(
    pages: AsyncIterator[list[dict[str, Any]]], convert: Callable[[dict[str, Any]], T | None]
) -> AsyncIterator[list[T]]:
    async for page in pages:
        records = [r for r in map(convert, page) if r is not None]
        if len(records) < len(page):
            log.warning("arbor.rows_skipped", count=len(page) - len(records))
        yield records


async def years(session: ArborSession) -> AsyncIterator[SourceAcademicYear | SourceYearGroup]:
    reader = session.reader
    streams: list[AsyncIterator[list[SourceAcademicYear | SourceYearGroup]]] = [
        _mapped(reader.rows("AcademicYear", mapping.ACADEMIC_YEAR_SPEC), mapping.academic_year),
        _mapped(reader.rows("AcademicLevel", mapping.ACADEMIC_LEVEL_SPEC), mapping.year_group),
    ]
    async for record in merged(*streams):
        yield record


async def _people(
    session: ArborSession,
    entity: str,
    spec: Spec,
    context: ExtractContext | None,
    dataset: Dataset,
    deleted: set[str],
) -> AsyncIterator[list[dict[str, Any]]]:
    """Rows of students or staff: only those changed since the dataset's checkpoint when
    asked for (``--since``, or ``incremental=auto``) and the change log can tell (see
    :mod:`misbridge_arbor.changes`), else all of them. ``deleted`` receives the ids the
    change log names as deleted."""
    client = session.client
    started = datetime.now(UTC)
    spec = with_revisions(spec)
    report = context.read(dataset) if context is not None else None
    mark = _start_from(context, dataset, client.config.incremental)
    if mark is not None and client.config.read_mode == "graphql":
        found = await changes.changed_people(client, entity, mark)
        if found.changed is not None:
            read = 0
            async for page in changes.rows_for(client, entity, spec, found.changed):
                read += len(page)
                yield page
            deleted.update(found.deleted)
            if report is not None:
                report.delta()
                report.uncounted(f"changed {entity} records", read=read)
                report.advance(started, {"revision": found.mark})
            return
    best = read = 0
    async for page in session.reader.rows(entity, spec):
        best = max([best, *map(changes.high_water, page)])
        read += len(page)
        yield page
    if report is not None:
        # Arbor's listings carry no total: a full read is unverified (see misbridge.reads).
        report.uncounted(entity, read=read)
        report.advance(started, {"revision": best})


def _start_from(context: ExtractContext | None, dataset: Dataset, auto: bool) -> int | None:
    """The revision an incremental read starts after, or None for a full read."""
    if context is None or (context.since is None and not auto):
        return None
    checkpoint = context.checkpoint(dataset)
    revision = (
        checkpoint.mark.get("revision")
        if checkpoint and isinstance(checkpoint.mark, dict)
        else None
    )
    usable = checkpoint is not None and (context.since is None or checkpoint.at <= context.since)
    if not usable or not isinstance(revision, int):
        # No read this one could start from (or only one after --since: changes between
        # them could be missed): read everything.
        log.info("arbor.full_read", dataset=dataset.value, reason="no checkpoint to start from")
        return None
    return revision


def _deletions(record: str, ids: set[str]) -> list[SourceDeletion]:
    return [SourceDeletion(record, mis_id) for mis_id in sorted(ids)]


def _status_source(config: ArborConfig) -> tuple[str, Spec] | None:
    """The entity and fields that say who is former staff (None: everyone is kept)."""
    if config.include_former_staff:
        return None
    if config.staff_current_from == "staff_fields":
        return "Staff", STAFF_STATUS_SPEC
    return "StaffContract", CONTRACT_SPEC


async def former_staff(session: ArborSession, today: date) -> set[str]:
    """Ids of the staff Arbor still holds whose employment has ended (see
    :mod:`misbridge_arbor.staff_status`); empty with ``include_former_staff``."""
    source = _status_source(session.client.config)
    if source is None:
        return set()
    rows = await session.reader.all_rows(*source)
    if source[0] == "Staff":
        return former_from_fields(rows, today)
    return former_from_contracts(rows, today)


async def staff(
    session: ArborSession, context: ExtractContext | None = None, today: date | None = None
) -> AsyncIterator[SourceStaff | SourceDeletion]:
    """Current staff; former staff are left out, like leavers (counted in the log)."""
    skipped = 0
    deleted: set[str] = set()
    async with TaskSet[set[str]]() as ahead:
        former = ahead.start(former_staff(session, today or datetime.now(UTC).date()))
        async for page in _people(
            session, "Staff", mapping.STAFF_SPEC, context, Dataset.STAFF, deleted
        ):
            left = await former
            for row in page:
                if str(row["id"]) in left:
                    skipped += 1
                    continue
                yield mapping.staff(row)
    if skipped:
        log.info("arbor.former_staff_skipped", count=skipped)
    for deletion in _deletions("StaffMember", deleted):
        yield deletion


async def students(
    session: ArborSession, today: date, context: ExtractContext | None = None
) -> AsyncIterator[SourceStudent | SourceDeletion]:
    config = session.client.config
    deleted: set[str] = set()
    spec = mapping.student_spec(config)
    async for page in _people(session, "Student", spec, context, Dataset.STUDENTS, deleted):
        for row in page:
            yield mapping.student(row, config, today)
    for deletion in _deletions("Student", deleted):
        yield deletion


async def groups(session: ArborSession) -> AsyncIterator[SourceGroup | SourceMembership]:
    reader, config = session.reader, session.client.config
    streams: list[AsyncIterator[list[Any]]] = []
    # The longest page chains (class memberships) start first: with no total to page by,
    # each is a chain of requests, and it decides when the dataset ends.
    for entity, link, kind, role, person in mapping.MEMBERSHIP_ENTITIES:
        streams.append(
            _mapped(
                reader.rows(entity, mapping.membership_spec(link, person)),
                lambda row, a=(link, kind, role, person): mapping.membership(row, *a),  # type: ignore[misc]
            )
        )
    for kind, (entity, _, _) in mapping.GROUP_ENTITIES.items():
        streams.append(
            _mapped(
                reader.rows(entity, mapping.group_spec(kind, config)),
                lambda row, kind=kind: mapping.group(row, kind, config),  # type: ignore[misc]
            )
        )
    async for record in merged(*streams):
        yield record


async def exam_results(session: ArborSession) -> AsyncIterator[SourceExamResult]:
    config = session.client.config
    async for page in session.reader.rows("QualificationResult", mapping.exam_spec(config)):
        for row in page:
            result = mapping.exam_result(row, config)
            if result is not None:
                yield result


async def photos(session: ArborSession, today: date | None = None) -> AsyncIterator[SourcePhoto]:
    """One request per person (Arbor has no bulk photo read); 404 means no photo.
    Former staff are not asked for: they are not extracted either."""
    reader, client = session.reader, session.client
    pupils, staff_ids, left = await asyncio.gather(
        reader.ids("Student"),
        reader.ids("Staff"),
        former_staff(session, today or datetime.now(UTC).date()),
    )
    wanted = [(Role.STUDENT, "student", i) for i in pupils]
    wanted += [(Role.STAFF, "staff", i) for i in staff_ids if i not in left]
    # Bounded by the client's pool; a window keeps memory flat for large schools.
    window = max(client.http.policy.concurrency * 4, 1)
    for start in range(0, len(wanted), window):
        batch = wanted[start : start + window]
        answers = await asyncio.gather(*(client.photo(kind, i) for _, kind, i in batch))
        for (role, _, person), answer in zip(batch, answers, strict=True):
            if answer is None:
                continue
            data, header = answer
            yield SourcePhoto(person, role, data, media_type(data, header))


# -- pre-flight -------------------------------------------------------------------------------
def _probes(session: ArborSession) -> dict[Dataset, list[tuple[str, Spec]]]:
    config = session.client.config
    groups_ = [
        (e, mapping.group_spec(k, config)) for k, (e, _, _) in mapping.GROUP_ENTITIES.items()
    ]
    groups_ += [
        (e, mapping.membership_spec(link, p)) for e, link, _, _, p in mapping.MEMBERSHIP_ENTITIES
    ]
    return {
        Dataset.YEARS: [
            ("AcademicYear", mapping.ACADEMIC_YEAR_SPEC),
            ("AcademicLevel", mapping.ACADEMIC_LEVEL_SPEC),
        ],
        Dataset.STAFF: [("Staff", mapping.STAFF_SPEC), *filter(None, [_status_source(config)])],
        Dataset.STUDENTS: [("Student", mapping.student_spec(config))],
        Dataset.GROUPS: groups_,
        Dataset.EXAM_RESULTS: [("QualificationResult", mapping.exam_spec(config))],
    }


async def _missing(action: Callable[[], Awaitable[object]]) -> tuple[str, ...]:
    try:
        await action()
    except PermissionDeniedError as exc:
        return exc.missing or (exc.message,)
    return ()


async def check(session: ArborSession, context: ExtractContext) -> list[PermissionCheck]:
    """Probe every field the extract reads with one-row queries; name what is refused."""
    del context  # the probes need nothing beyond the session's configuration
    client = session.client

    async def probe(entity: str, spec: Spec) -> tuple[str, ...]:
        query = graphql_query(entity, spec, {"page_size": 1, "page_num": 0})
        return await _missing(lambda: client.graphql(query))

    checks: list[PermissionCheck] = []
    for dataset, probes in _probes(session).items():
        found = await asyncio.gather(*(probe(e, s) for e, s in probes))
        missing = tuple(dict.fromkeys(m for group in found for m in group))
        checks.append(PermissionCheck(dataset, missing))
    photo_missing = await _missing(lambda: client.photo("student", "0"))
    status = _status_source(client.config)
    if status is not None:
        photo_missing += await probe(*status)
    checks.append(
        PermissionCheck(
            Dataset.PHOTOS,
            photo_missing,
            notes=("one request per student and member of staff",),
        )
    )
    return checks
