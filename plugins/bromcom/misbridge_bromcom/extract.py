"""The extract hooks' work: which entities each dataset reads, with which filters.

Independent entities of one dataset are requested at once (a dataset's wall time is its
slowest entity, not their sum); records are yielded page by page as they arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any, TypeVar

import structlog

from misbridge.plugin import (
    Dataset,
    ExtractContext,
    GroupKind,
    Role,
    SourceAcademicYear,
    SourceExamResult,
    SourceFormatError,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
    TaskSet,
)
from misbridge_bromcom import mapping
from misbridge_bromcom.contacts import DETAIL_ENTITIES, Details, attach, collect
from misbridge_bromcom.filters import all_of, current_or_later, is_in, literal
from misbridge_bromcom.partner import PartnerApi
from misbridge_bromcom.schema import GROUP_TYPES
from misbridge_bromcom.session import BromcomSession

__all__ = ["exam_results", "groups", "photos", "staff", "students", "years"]

log = structlog.get_logger()
T = TypeVar("T")
Row = dict[str, Any]


def _window(session: BromcomSession, key: str, end: str) -> str:
    """Rows still open on, or ended since, the configured ``leavers_since`` date."""
    return current_or_later("", session.config.vocab.field(key, end), session.config.since)


def _types(session: BromcomSession, kinds: Iterable[str]) -> str:
    vocab = session.config.vocab
    codes = ",".join(literal(vocab.group_type(k)) for k in kinds)
    return f"{vocab.field('collections', 'type')} in ({codes})"


async def years(
    session: BromcomSession, context: ExtractContext
) -> AsyncIterator[SourceAcademicYear | SourceYearGroup]:
    fields = session.fields("collections")
    ahead: TaskSet[Any] = TaskSet()
    year_groups = ahead.start(session.rows("collections", _types(session, ["year"])))
    try:
        f = session.fields("years")
        async for page in session.pages("years"):
            for row in page:
                yield mapping.academic_year(row, f)
        kinds = {session.config.vocab.group_type("year").upper(): "year"}
        for row in await year_groups:
            record = mapping.collection(row, fields, kinds, {})
            if isinstance(record, SourceYearGroup):
                yield record
    finally:
        await ahead.cancel()


async def staff(session: BromcomSession, context: ExtractContext) -> AsyncIterator[SourceStaff]:
    f = session.fields("staff")
    async for page in session.pages("staff"):
        for row in page:
            yield mapping.staff(row, f)


async def students(
    session: BromcomSession, context: ExtractContext
) -> AsyncIterator[SourceStudent]:
    f = session.fields("students")
    email_type = session.config.student_email_type
    with_details = session.config.legacy_contacts and all(
        session.config.vocab.serves(key) for key in DETAIL_ENTITIES
    )
    async for page in session.pages("students", _window(session, "students", "leaving_date")):
        records = [mapping.student(row, f, email_type) for row in page]
        if not with_details:
            for record in records:
                yield record
            continue
        pairs = [
            (record, person_key(session, row, record.mis_id))
            for row, record in zip(page, records, strict=True)
        ]
        async for record in _with_details(session, pairs):
            yield record


def person_key(session: BromcomSession, row: Row, student_id: str) -> str:
    """The id a pupil is named by in person-keyed entities (``student_join_key``)."""
    if session.config.student_join_key == "student_id":
        return student_id
    name = session.config.vocab.field("students", "person_id")
    found = mapping.text(row, name)
    if found is None:
        raise SourceFormatError(
            f"bromcom: pupil {student_id} has no {name}, the person id that "
            "CollectionAssociates and the person-detail entities name pupils by; if this "
            "school's Bromcom names pupils there by their student id, set "
            "student_join_key=student_id (or name the field: wire_names "
            "students.person_id=<name>)",
            mis="bromcom",
            entity=session.config.vocab.entity("students"),
            field=name,
        )
    return found


async def _with_details(
    session: BromcomSession, records: list[tuple[SourceStudent, str]]
) -> AsyncIterator[SourceStudent]:
    """Each batch of pupils with their contacts and SEN history (see :mod:`.contacts`):
    the person-keyed entities by the pupils' person ids, SEN by their student ids."""
    size = session.config.max_terms
    batches = [records[n : n + size] for n in range(0, len(records), size)]
    fields = {key: session.fields(key) for key in DETAIL_ENTITIES}

    def ids(batch: list[tuple[SourceStudent, str]], id_name: str) -> list[str]:
        return [person if id_name == "person_id" else r.mis_id for r, person in batch]

    ahead: TaskSet[Any] = TaskSet()
    tasks = [
        [
            ahead.start(
                session.rows(key, next(is_in(fields[key][id_name], ids(batch, id_name), size)))
            )
            for key, id_name in DETAIL_ENTITIES.items()
        ]
        for batch in batches
    ]
    try:
        for batch, fetches in zip(batches, tasks, strict=True):
            details: Details = {}
            for key, fetch in zip(DETAIL_ENTITIES, fetches, strict=True):
                collect(details, key, await fetch, fields)
            for record, person in batch:
                yield attach(record, details, fields, person)
    finally:
        await ahead.cancel()


async def groups(
    session: BromcomSession, context: ExtractContext
) -> AsyncIterator[SourceGroup | SourceMembership]:
    kinds_by_code = session.config.vocab.kind_of_type()
    wanted = all_of(_types(session, GROUP_TYPES), _window(session, "collections", "end"))
    ahead: TaskSet[Any] = TaskSet()
    collections = ahead.start(session.rows("collections", wanted))
    subjects = ahead.start(session.rows("subjects"))
    associates = ahead.start(session.rows("associates", _window(session, "associates", "end")))
    executives = ahead.start(session.rows("executives", _window(session, "executives", "end")))
    pupils = ahead.start(pupil_ids(session))
    try:
        cf, sf = session.fields("collections"), session.fields("subjects")
        names = {
            sid: mapping.text(row, sf["name"])
            for row in await subjects
            if (sid := mapping.text(row, sf["id"])) is not None
        }
        subject_names = {k: v for k, v in names.items() if v is not None}
        kinds: dict[str, GroupKind] = {}
        for row in await collections:
            record = mapping.collection(row, cf, kinds_by_code, subject_names)
            if record is None:
                continue
            if isinstance(record, SourceYearGroup):
                kinds[record.mis_id] = GroupKind.YEAR  # yielded by the years dataset
                continue
            kinds[record.mis_id] = record.kind
            yield record
        unmatched: dict[str, int] = {}
        for key, person, role, task in (
            ("associates", "person_id", Role.STUDENT, associates),
            ("executives", "staff_id", Role.STAFF, executives),
        ):
            people = await pupils if role is Role.STUDENT else None
            read = mapping.membership_reader(
                session.fields(key), person, role, kinds, people, unmatched
            )
            for row in await task:
                member = read(row)
                if member is not None:
                    yield member
        if unmatched:
            raise _unmatched(session, unmatched)
    finally:
        await ahead.cancel()


async def pupil_ids(session: BromcomSession) -> dict[str, str]:
    """The id CollectionAssociates names each pupil by -> the pupil's student id."""
    config = session.config
    f = session.fields("students")
    rows = await session.rows("students", _window(session, "students", "leaving_date"))
    if config.student_join_key == "student_id":
        return {i: i for row in rows if (i := mapping.text(row, f["id"])) is not None}
    found = {}
    for row in rows:
        student = mapping.ident(row, f["id"], "student")
        found[person_key(session, row, student)] = student
    return found


def _unmatched(session: BromcomSession, unmatched: dict[str, int]) -> SourceFormatError:
    """Pupil memberships that name no pupil: loud, never dropped in silence."""
    vocab = session.config.vocab
    rows = sum(unmatched.values())
    sample = ", ".join(sorted(unmatched)[:5])
    key = session.config.student_join_key
    other = "student_id" if key == "person_id" else "person_id"
    named = vocab.field("students", "person_id" if key == "person_id" else "id")
    log.warning("bromcom.unmatched_associates", rows=rows, collections=len(unmatched))
    return SourceFormatError(
        f"bromcom: {rows} {vocab.entity('associates')} row(s) in {len(unmatched)} "
        f"class(es), tutor group(s) or house(s) (e.g. {sample}) name a "
        f"{vocab.field('associates', 'person_id')} that is no pupil's {named} in "
        f"{vocab.entity('students')} (student_join_key={key}); those memberships were not "
        f"read. If this school's Bromcom names pupils there by the other id, set "
        f"student_join_key={other}; otherwise the pupils may have left before "
        "leavers_since while their memberships stayed open",
        mis="bromcom",
        entity=vocab.entity("associates"),
        rows=rows,
    )


async def exam_results(
    session: BromcomSession, context: ExtractContext
) -> AsyncIterator[SourceExamResult]:
    """Results of the assessment types ``exam_types`` names (any spelling, see
    :mod:`.exam_types`). Every row is read, so that the types left out can be counted
    and reported by name (never a pupil's data); their rows are dropped at once."""
    exams = session.config.exam_types
    f = session.fields("results")
    excluded: dict[str, int] = {}
    included: dict[str, int] = {}
    async for page in session.pages("results"):
        for row in page:
            kind = mapping.text(row, f["type"]) or ""
            if exams.matches(kind):
                included[kind] = included.get(kind, 0) + 1
                yield mapping.exam_result(row, f)
            else:
                excluded[kind or "(no type)"] = excluded.get(kind or "(no type)", 0) + 1
    log.info("bromcom.exam_types_read", types=dict(sorted(included.items())))
    if excluded:
        log.warning(
            "bromcom.assessment_types_excluded",
            rows=sum(excluded.values()),
            types=dict(sorted(excluded.items())),
            exam_types=",".join(exams.entries),
            hint="add a type to the exam_types setting if it holds exam results",
        )


async def photos(session: BromcomSession, context: ExtractContext) -> AsyncIterator[SourcePhoto]:
    people = [
        (Role.STUDENT, "students", _window(session, "students", "leaving_date")),
        (Role.STAFF, "staff", ""),
    ]
    ahead: TaskSet[Any] = TaskSet()
    lists = [ahead.start(session.rows(key, where)) for _, key, where in people]
    try:
        source: AsyncGenerator[SourcePhoto, None]
        if isinstance(session.api, PartnerApi):
            source = _partner_photos(session, people, lists)
        else:
            source = _legacy_photos(session, people, lists)
        async with contextlib.aclosing(source):
            async for photo in source:
                yield photo
    finally:
        await ahead.cancel()


async def _partner_photos(
    session: BromcomSession,
    people: list[tuple[Role, str, str]],
    lists: list[asyncio.Task[list[Row]]],
) -> AsyncGenerator[SourcePhoto, None]:
    api = session.api
    assert isinstance(api, PartnerApi)
    wanted: list[tuple[Role, str, str]] = []
    for (role, key, _), task in zip(people, lists, strict=True):
        f = session.fields(key)
        for row in await task:
            photo_id = mapping.text(row, f["photo_id"])
            if photo_id:
                wanted.append((role, mapping.ident(row, f["id"], key), photo_id))
    log.debug("bromcom.photos", photos=len(wanted))
    # The shared client's semaphore bounds the requests in flight.
    ahead: TaskSet[Any] = TaskSet()
    fetches = [ahead.start(api.image(photo_id)) for _, _, photo_id in wanted]
    try:
        for (role, person, _), fetch in zip(wanted, fetches, strict=True):
            found = await fetch
            if found is not None:
                yield SourcePhoto(person, role, found[0], found[1])
    finally:
        await ahead.cancel()


async def _legacy_photos(
    session: BromcomSession,
    people: list[tuple[Role, str, str]],
    lists: list[asyncio.Task[list[Row]]],
) -> AsyncGenerator[SourcePhoto, None]:
    """``PersonPhotos`` by person id: a pupil's person id (``student_join_key``), a
    member of staff's staff id (staffID = personID)."""
    f = session.fields("photos")
    batches: list[tuple[Role, str]] = []
    owner: dict[tuple[Role, str], str] = {}
    for (role, key, _), task in zip(people, lists, strict=True):
        id_field = session.fields(key)["id"]
        ids = []
        for row in await task:
            mis_id = mapping.ident(row, id_field, key)
            person = person_key(session, row, mis_id) if role is Role.STUDENT else mis_id
            owner[(role, person)] = mis_id
            ids.append(person)
        batches += [(role, b) for b in is_in(f["person_id"], ids, session.config.max_terms)]
    ahead: TaskSet[Any] = TaskSet()
    fetches = [ahead.start(session.rows("photos", where)) for _, where in batches]
    try:
        for (role, _), fetch in zip(batches, fetches, strict=True):
            for row in await fetch:
                who = mapping.ident(row, f["person_id"], "person photo")
                data = mapping.photo_bytes(row, f["photo"], who)
                photo_of = owner.get((role, who))
                if data and photo_of is not None:
                    yield SourcePhoto(photo_of, role, data, None)
    finally:
        await ahead.cancel()


DATASET_FUNCTIONS = {
    Dataset.YEARS: years,
    Dataset.STAFF: staff,
    Dataset.STUDENTS: students,
    Dataset.GROUPS: groups,
    Dataset.PHOTOS: photos,
    Dataset.EXAM_RESULTS: exam_results,
}
