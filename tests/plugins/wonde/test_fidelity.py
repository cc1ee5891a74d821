"""What real Wonde answers carry that the simulator once did not (issue 18), through the
plugin's real HTTP code: genders, where the staff code is, deletion rows and their
filters, small lists without ``meta``, integer page sizes, and class staff given only
nested in the student listing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from attrs import evolve

from misbridge.errors import Severity
from misbridge.model import Dataset, GroupKind, Role
from misbridge.plugins import Plugins
from misbridge.result import OutcomeStatus
from misbridge.source import SourceDeletion, SourceMembership, SourceSchool, SourceStaff
from misbridge_wonde import extract
from misbridge_wonde.mapping import is_restored
from misbridge_wonde.permissions import check
from misbridge_wonde.session import WondeSession, open_session
from misbridge_wonde.simulator import WondeSimulator, simulate
from tests.plugins.wonde.helpers import (
    RecordingTransport,
    context_for,
    run_extract,
    transport_of,
)

GENDER_NAMES = {"M": "Male", "F": "Female"}


class KeepingTransport(RecordingTransport):
    """Notes every answer's JSON too, by the path it answered."""

    def __init__(self, sim: WondeSimulator) -> None:
        super().__init__(transport_of(sim).inner)
        self.answers: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        body = await response.aread()
        self.answers.append((request.url.path, json.loads(body)))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def of(self, suffix: str) -> list[Any]:
        return [body for path, body in self.answers if path.endswith(suffix)]


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


async def session_for(
    sim: WondeSimulator, settings: dict[str, str] | None = None, since: datetime | None = None
) -> WondeSession:
    context = context_for(sim, settings)
    return await open_session(evolve(context, since=since) if since else context)


# -- genders -----------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["documented", "short"])
async def test_genders_reach_the_model_in_either_spelling(
    small_school: SourceSchool, plugins: Plugins, style: str
) -> None:
    sim = simulate(small_school, gender_style=style)
    wire = {e.base["gender"] for e in sim.rendered.tables["students"].values()}
    assert wire == ({"MALE", "FEMALE", "X"} if style == "documented" else {"M", "F", "X"})
    result = await run_extract(sim, plugins, datasets=(Dataset.STUDENTS, Dataset.STAFF))
    for dataset, source in (
        (Dataset.STUDENTS, small_school.students),
        (Dataset.STAFF, small_school.staff),
    ):
        want = {r.mis_id: GENDER_NAMES.get(r.gender or "") for r in source}
        got = {r.mis_id: r.gender for r in result.of(dataset)}  # type: ignore[union-attr]
        assert got == {k: want[k] for k in got}
        assert len(got) >= len(source) - 2  # two sample pupils are rejected for other reasons
    # "X" is no configured gender in either spelling: reported, never guessed.
    unknown = [e for e in result.errors if e.code == "MB4001"]
    assert unknown and all(e.severity is Severity.WARNING for e in unknown)


# -- the staff code --------------------------------------------------------------------------
def codes(records: list[Any]) -> dict[str, str | None]:
    return {r.mis_id: r.staff_code for r in records if isinstance(r, SourceStaff)}


async def test_the_staff_code_is_read_from_employment_details(small_school: SourceSchool) -> None:
    sim = simulate(small_school)
    session = await session_for(sim)
    try:
        got = codes(await collect(extract.staff(session)))
    finally:
        await session.aclose()
    assert got == {s.mis_id: s.staff_code for s in small_school.staff}
    assert session.context.read(Dataset.STAFF).problems == []


async def test_a_staff_code_that_is_not_there_is_reported(small_school: SourceSchool) -> None:
    # The documented employment_details only: no staff code anywhere in the answer.
    sim = simulate(small_school, staff_code_field=None)
    session = await session_for(sim)
    try:
        with structlog.testing.capture_logs() as logs:
            got = codes(await collect(extract.staff(session)))
    finally:
        await session.aclose()
    assert set(got.values()) == {None}
    problems = session.context.read(Dataset.STAFF).problems
    assert [e.mis_id for e in problems] == [s.mis_id for s in small_school.staff]
    first = problems[0]
    assert (first.code, first.field, first.severity) == (
        extract.STAFF_CODE_NOT_FOUND,
        "staff_code",
        Severity.WARNING,
    )
    assert "'staff_code' in its employment_details" in first.message
    assert "staff_code_field" in first.message
    assert first.record_label == f"staff member with MIS id {first.mis_id}"
    (warning,) = [e for e in logs if e["event"] == "wonde.staff_code_not_found"]
    assert warning["count"] == len(small_school.staff)
    assert warning["field"] == "employment_details.staff_code"


async def test_the_lost_staff_codes_reach_the_extract_errors(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, staff_code_field=None)
    result = await run_extract(sim, plugins, datasets=(Dataset.STAFF,))
    assert result.ok and len(result.of(Dataset.STAFF)) == len(small_school.staff)
    lost = [e for e in result.errors if e.code == extract.STAFF_CODE_NOT_FOUND]
    assert sorted(e.mis_id or "" for e in lost) == sorted(s.mis_id for s in small_school.staff)
    assert {(e.dataset, e.field, e.severity, e.mis) for e in lost} == {
        ("staff", "staff_code", Severity.WARNING, "wonde")
    }
    assert result.summary()["warnings"] >= len(small_school.staff)


async def test_an_empty_code_in_the_mis_is_not_a_lost_one(small_school: SourceSchool) -> None:
    school = evolve(
        small_school,
        staff=(evolve(small_school.staff[0], staff_code=None), *small_school.staff[1:]),
    )
    sim = simulate(school)
    session = await session_for(sim)
    try:
        got = codes(await collect(extract.staff(session)))
    finally:
        await session.aclose()
    assert got[school.staff[0].mis_id] is None
    assert session.context.read(Dataset.STAFF).problems == []  # the key is there: no code


@pytest.mark.parametrize(
    "where", ["employment_details.teacher_number", "staff_code", "employment_details.staff_code"]
)
async def test_the_staff_code_location_is_a_setting(
    small_school: SourceSchool, plugins: Plugins, where: str
) -> None:
    sim = simulate(small_school, staff_code_field=where)
    result = await run_extract(
        sim, plugins, datasets=(Dataset.STAFF,), settings={"staff_code_field": where}
    )
    assert result.ok
    got = {s.mis_id: s.staff_code for s in result.of(Dataset.STAFF)}  # type: ignore[union-attr]
    assert got == {s.mis_id: s.staff_code for s in small_school.staff}


async def test_a_location_in_another_include_asks_for_it(small_school: SourceSchool) -> None:
    sim = simulate(small_school)
    recorder = transport_of(sim)
    session = await open_session(
        context_for(sim, {"staff_code_field": "extended_details.staff_code"}, recorder)
    )
    try:
        await collect(extract.staff(session))
    finally:
        await session.aclose()
    listed = [r for r in recorder.requests if r.url.path.endswith("/employees")]
    assert listed and all("extended_details" in r.url.params["include"].split(",") for r in listed)
    # The simulated account has no such include: every code is reported lost.
    assert len(session.context.read(Dataset.STAFF).problems) == len(small_school.staff)


@pytest.mark.parametrize("bad", ["Employment_Details.staff_code", "a.b.c", "staff code", "."])
async def test_a_bad_location_is_a_configuration_error(
    small_school: SourceSchool, plugins: Plugins, bad: str
) -> None:
    from misbridge.errors import ConfigurationError

    sim = simulate(small_school)
    with pytest.raises(ConfigurationError, match="staff_code_field"):
        await run_extract(sim, plugins, settings={"staff_code_field": bad})
    assert sim.requests == 0


async def test_check_notes_a_staff_code_that_is_not_there(small_school: SourceSchool) -> None:
    sim = simulate(small_school, staff_code_field=None)
    session = await session_for(sim)
    try:
        checks = {c.dataset: c for c in await check(session, [Dataset.STAFF, Dataset.GROUPS])}
    finally:
        await session.aclose()
    assert checks[Dataset.STAFF].ok  # nothing the school must grant ...
    assert any("staff_code_field" in note for note in checks[Dataset.STAFF].notes)  # ... but said


# -- deletions ---------------------------------------------------------------------------------
async def test_a_delta_skips_deletions_since_restored(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    auto = {"incremental": "auto"}
    first = await run_extract(sim, plugins, settings=auto)
    soon = datetime.now(UTC) + timedelta(minutes=1)
    sim.delete("students", "10006", soon)
    sim.delete("students", "10008", soon)
    sim.restore("students", "10008", soon + timedelta(seconds=30))
    second = await run_extract(sim, plugins, settings=auto, checkpoints=first.checkpoints)
    assert [d.mis_id for d in second.deletions[Dataset.STUDENTS]] == ["10006"]
    # The restored pupil is a change of its own: read again, not disabled.
    assert [s.mis_id for s in second.of(Dataset.STUDENTS)] == ["10008"]
    assert second.outcomes[Dataset.STUDENTS].deletions == 1


async def test_deleted_again_after_a_restore_is_deleted(small_school: SourceSchool) -> None:
    sim = simulate(small_school)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    sim.delete("students", "10006", start + timedelta(hours=1))
    sim.restore("students", "10006", start + timedelta(hours=2))
    sim.delete("students", "10006", start + timedelta(hours=3))
    session = await session_for(sim, since=start)
    try:
        found = await collect(extract.deletions(session, Dataset.STUDENTS))
    finally:
        await session.aclose()
    assert [(d.record, d.mis_id) for d in found] == [("Student", "10006")]
    assert found[0].deleted_at["date"] == "2026-10-01 03:00:00.000000"


async def test_each_dataset_asks_for_its_own_deletion_types(small_school: SourceSchool) -> None:
    sim = simulate(small_school)
    since = datetime(2026, 10, 1, tzinfo=UTC)
    sim.delete("students", "10004", since + timedelta(hours=1))
    sim.delete("employees", "S1001", since + timedelta(hours=2))
    sim.delete("classes", "C7Ma1", since + timedelta(hours=3))
    recorder = transport_of(sim)
    session = await open_session(evolve(context_for(sim, transport=recorder), since=since))
    try:
        found: dict[Dataset, list[SourceDeletion]] = {
            d: await collect(extract.deletions(session, d))
            for d in (Dataset.STUDENTS, Dataset.STAFF, Dataset.GROUPS)
        }
    finally:
        await session.aclose()
    assert [(d.record, d.mis_id) for d in found[Dataset.STUDENTS]] == [("Student", "10004")]
    assert [(d.record, d.mis_id) for d in found[Dataset.STAFF]] == [("StaffMember", "S1001")]
    assert [(d.record, d.mis_id, d.group_kind) for d in found[Dataset.GROUPS]] == [
        ("Group", "C7Ma1", GroupKind.CLASS)
    ]
    asked = [r.url.params for r in recorder.requests if r.url.path.endswith("/deletions")]
    assert sorted(p["type"] for p in asked) == ["class", "employee", "group", "student"]
    assert {p["updated_after"] for p in asked} == {"2026-10-01 00:00:00"}


async def test_a_server_ignoring_the_type_filter_cannot_cross_datasets(
    small_school: SourceSchool,
) -> None:
    from tests.plugins.wonde.test_session import tampered

    sim = simulate(small_school)
    since = datetime(2026, 10, 1, tzinfo=UTC)
    sim.delete("students", "10004", since + timedelta(hours=1))

    def all_types(body: dict[str, Any]) -> None:
        body["data"] = [r.as_json() for r in sim.deletions]  # as if 'type' were ignored

    from misbridge.simulation import asgi_transport

    session = await open_session(
        evolve(
            context_for(sim, transport=asgi_transport(tampered(sim, all_types, "/deletions"))),
            since=since,
        )
    )
    try:
        staff = await collect(extract.deletions(session, Dataset.STAFF))
        pupils = await collect(extract.deletions(session, Dataset.STUDENTS))
    finally:
        await session.aclose()
    assert staff == [] and [d.mis_id for d in pupils] == ["10004"]


@pytest.mark.parametrize(
    ("row", "restored"),
    [
        ({"restored_at": None}, False),
        ({"deleted_at": {"date": "2026-10-01 09:00:00.000000", "timezone": "UTC"}}, False),
        (
            {
                "deleted_at": {"date": "2026-10-01 09:00:00.000000", "timezone": "UTC"},
                "restored_at": {"date": "2026-10-02 09:00:00.000000", "timezone": "UTC"},
            },
            True,
        ),
        (  # deleted again after the restore (one row updated in place)
            {
                "deleted_at": {"date": "2026-10-03 09:00:00.000000", "timezone": "UTC"},
                "restored_at": {"date": "2026-10-02 09:00:00.000000", "timezone": "UTC"},
            },
            False,
        ),
        (  # 09:30 in London (BST) is 08:30 UTC: before the deletion at 09:00 UTC
            {
                "deleted_at": {"date": "2026-07-01 09:00:00.000000", "timezone": "UTC"},
                "restored_at": {"date": "2026-07-01 09:30:00.000000", "timezone": "Europe/London"},
            },
            False,
        ),
        ({"restored_at": "2026-10-02 09:00:00"}, True),  # a restore with no deletion time
        ({"restored_at": {"date": "not a date"}}, True),  # restored, when unknown
    ],
)
def test_which_deletion_rows_are_undone(row: dict[str, Any], restored: bool) -> None:
    assert is_restored(row) is restored


# -- lists without meta, page sizes ------------------------------------------------------------
@pytest.mark.parametrize("paging", ["parallel", "cursor", "follow-next"])
async def test_small_lists_without_meta_are_read_and_counted(
    small_school: SourceSchool, plugins: Plugins, paging: str
) -> None:
    sim = simulate(small_school)
    keeper = KeepingTransport(sim)
    result = await run_extract(
        sim,
        plugins,
        transport=keeper,
        datasets=(Dataset.STAFF, Dataset.YEARS),
        settings={"paging": paging, "per_page": "default"},
    )
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.COMPLETE  # 5 of 5 counted
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.COMPLETE
    assert len(result.of(Dataset.STAFF)) == len(small_school.staff)
    (answer,) = keeper.of("/employees")  # one answer, nothing more to ask ...
    assert "meta" not in answer and len(answer["data"]) == len(small_school.staff)  # ... no meta


@pytest.mark.parametrize("per_page_type", ["int", "string"])
async def test_the_server_page_size_is_followed_whatever_its_type(
    small_school: SourceSchool, plugins: Plugins, per_page_type: str
) -> None:
    sim = simulate(small_school, max_per_page=7, per_page_type=per_page_type)
    keeper = KeepingTransport(sim)
    result = await run_extract(
        sim, plugins, transport=keeper, settings={"paging": "parallel", "per_page": "200"}
    )
    assert result.ok and len(result.of(Dataset.STUDENTS)) == 38
    assert sim.requests == 1 + 1 + 6  # school, counts, then ceil(40 / 7) pages
    served = {page["meta"]["pagination"]["per_page"] for page in keeper.of("/students")}
    assert served == ({7} if per_page_type == "int" else {"7"})


# -- class staff given only from the class's side --------------------------------------------
def staff_in_classes(records: list[Any]) -> list[tuple[str, str]]:
    return sorted(
        (m.group_mis_id, m.person_mis_id)
        for m in records
        if isinstance(m, SourceMembership)
        and m.role is Role.STAFF
        and m.group_kind is GroupKind.CLASS
    )


def class_staff_of(school: SourceSchool, with_pupils_only: bool = False) -> list[tuple[str, str]]:
    pupils = {m.group_mis_id for m in school.memberships if m.role is Role.STUDENT}
    return sorted(
        (m.group_mis_id, m.person_mis_id)
        for m in school.memberships
        if m.role is Role.STAFF
        and m.group_kind is GroupKind.CLASS
        and (m.group_mis_id in pupils or not with_pupils_only)
    )


@pytest.mark.parametrize("source", ["classes", "students"])
@pytest.mark.parametrize("linked_both_ways", [True, False])
async def test_class_staff_given_from_the_class_side_become_memberships(
    small_school: SourceSchool, source: str, linked_both_ways: bool
) -> None:
    sim = simulate(small_school, employee_class_links=linked_both_ways)
    recorder = transport_of(sim)
    session = await open_session(context_for(sim, {"class_staff": source}, recorder))
    try:
        records = await collect(extract.groups(session))
    finally:
        await session.aclose()
    # Nested in the student listing, a class without pupils shows no one: only the
    # employee's own classes (when the MIS links that side) can give its teacher.
    want = class_staff_of(
        small_school, with_pupils_only=source == "students" and not linked_both_ways
    )
    assert staff_in_classes(records) == want  # every one, and each once
    assert len(want) > 0
    includes = {
        r.url.path.rsplit("/", 1)[-1]: set(r.url.params["include"].split(","))
        for r in recorder.requests
        if "include" in r.url.params
    }
    nested = source == "students"
    assert ("classes.employees" in includes["students"]) is nested
    assert ("employees" in includes["classes"]) is not nested
    tutors = [
        m
        for m in records
        if isinstance(m, SourceMembership) and m.group_kind is GroupKind.REGISTRATION
    ]
    assert any(m.role is Role.STAFF for m in tutors)


async def test_a_class_without_pupils_keeps_its_teacher(small_school: SourceSchool) -> None:
    # A class with a teacher and no pupil yet: the class list still gives its teacher.
    empty, teacher = class_staff_of(small_school)[0]
    school = evolve(
        small_school,
        memberships=tuple(
            m
            for m in small_school.memberships
            if not (m.group_mis_id == empty and m.role is Role.STUDENT)
        ),
    )
    sim = simulate(school, employee_class_links=False)
    session = await session_for(sim)
    try:
        records = await collect(extract.groups(session))
    finally:
        await session.aclose()
    assert (empty, teacher) in staff_in_classes(records)
    assert staff_in_classes(records) == class_staff_of(school)


@pytest.mark.parametrize(
    ("source", "missing"),
    [("classes", "classes.employees"), ("students", "students.classes.employees")],
)
async def test_check_sees_the_class_staff_include_out_of_scope(
    small_school: SourceSchool, source: str, missing: str
) -> None:
    found = {}
    for name, sim in (
        ("full", simulate(small_school)),
        ("hidden", simulate(small_school, hidden={"classes.employees"})),
    ):
        session = await session_for(sim, {"class_staff": source})
        try:
            found[name] = {c.dataset: c for c in await check(session, [Dataset.GROUPS])}
        finally:
            await session.aclose()
    assert found["full"][Dataset.GROUPS].ok
    assert found["hidden"][Dataset.GROUPS].missing == (missing,)


# -- the documentation stays in step ---------------------------------------------------------
def test_the_docs_name_every_setting_and_simulator_option() -> None:
    from pathlib import Path

    from attrs import fields_dict

    from misbridge_wonde.settings import SETTINGS
    from misbridge_wonde.simulator.options import SimOptions

    doc = (Path(__file__).resolve().parents[3] / "docs" / "plugins" / "wonde.md").read_text()
    settings = [f.name for f in SETTINGS if not f.name.startswith("http_")]
    assert [name for name in settings if f"| `{name}` |" not in doc] == []
    assert [name for name in fields_dict(SimOptions) if f"`{name}`" not in doc] == []
    assert "## Wire facts and their sources" in doc and extract.STAFF_CODE_NOT_FOUND in doc
