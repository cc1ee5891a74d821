"""Where Arbor's real behaviour differs from a naive reading: former staff, permission
errors in Arbor's documented wording, the error body's ``trace``, reverse lists."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from misbridge.hooktypes import PermissionCheck
from misbridge.model import Dataset, StaffMember
from misbridge.pipeline import extract_async, prepare_context
from misbridge.plugins import get_plugin_manager
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.testing.school import sample_school
from misbridge_arbor import INFO
from misbridge_arbor.simulator import ArborSimulator, simulator

FAST = {"http_wait_initial": "0.01", "http_wait_max": "0.05"}
FORMER = {"L9001", "L9002"}


def _school() -> Any:
    return sample_school(students=20, staff=4)


def _extract(sim: ArborSimulator, datasets: list[Dataset], **settings: str) -> ExtractResult:
    source = sim.source()
    return asyncio.run(
        extract_async(
            "arbor",
            settings={**source.settings, **FAST, **settings},
            credentials=dict(source.credentials),
            transport=source.transport,
            datasets=datasets,
        )
    )


def _staff_ids(result: ExtractResult) -> set[str]:
    return {s.mis_id for s in result.of(Dataset.STAFF) if isinstance(s, StaffMember)}


async def _check(sim: ArborSimulator, **settings: str) -> dict[Dataset, PermissionCheck]:
    hooks = get_plugin_manager().for_mis("arbor")
    source = sim.source()
    context = prepare_context(
        INFO,
        settings={**source.settings, **settings},
        credentials=dict(source.credentials),
        transport=source.transport,
    )
    session = await hooks.authenticate(context)
    try:
        pending = hooks.check_permissions(session, context)
        assert pending is not None
        return {c.dataset: c for c in await pending}
    finally:
        await session.aclose()


def _post(sim: ArborSimulator, query: str) -> httpx.Response:
    async def go() -> httpx.Response:
        source = sim.source()
        creds = source.credentials
        async with httpx.AsyncClient(
            transport=source.transport,
            base_url=source.settings["base_url"],
            auth=(creds["username"], creds["api_key"]),
        ) as client:
            return await client.post("/graphql/query", json={"query": query})

    return asyncio.run(go())


# -- former staff ---------------------------------------------------------------------------
def test_the_simulated_school_keeps_its_former_staff() -> None:
    sim = simulator(_school())
    staff = sim.store.entities["Staff"]
    assert set(staff) >= FORMER
    assert all(staff[i]["isActiveInSchool"] is False for i in FORMER)
    assert all(staff[i]["leavingDate"] < date.today() for i in FORMER)
    ended = [c for c in sim.store.entities["StaffContract"].values() if c["staff"].id in FORMER]
    assert ended and all(c["endDate"] < date.today() for c in ended)


@pytest.mark.parametrize(
    "settings",
    [{}, {"staff_current_from": "staff_fields"}, {"read_mode": "rest"}],
    ids=["contracts", "staff-fields", "rest-contracts"],
)
def test_former_staff_are_not_extracted_as_current(settings: dict[str, str]) -> None:
    school = _school()
    result = _extract(simulator(school), [Dataset.STAFF], **settings)
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.UNVERIFIED
    # Every current member of staff, including one with no contract recorded at all and
    # one with an ended contract before the current one; none of the former staff.
    assert _staff_ids(result) == {s.mis_id for s in school.staff}


def test_former_staff_can_be_included_on_request() -> None:
    school = _school()
    result = _extract(simulator(school), [Dataset.STAFF], include_former_staff="yes")
    assert _staff_ids(result) == {s.mis_id for s in school.staff} | FORMER


def test_a_contract_that_ends_makes_a_leaver() -> None:
    school = _school()
    sim = simulator(school)
    leaver = school.staff[0].mis_id
    for contract_id, contract in list(sim.store.entities["StaffContract"].items()):
        if contract["staff"].id == leaver:
            sim.store.update("StaffContract", contract_id, endDate=date.today() - timedelta(days=1))
    ids = _staff_ids(_extract(sim, [Dataset.STAFF]))
    assert leaver not in ids
    assert ids == {s.mis_id for s in school.staff} - {leaver}


def test_a_future_leaving_date_is_still_current() -> None:
    school = _school()
    sim = simulator(school)
    staying = school.staff[0].mis_id
    sim.store.update("Staff", staying, leavingDate=date.today() + timedelta(days=30))
    ids = _staff_ids(_extract(sim, [Dataset.STAFF], staff_current_from="staff_fields"))
    assert staying in ids


def test_photos_are_not_asked_for_former_staff() -> None:
    sim = simulator(_school())
    result = _extract(sim, [Dataset.PHOTOS])
    assert result.outcomes[Dataset.PHOTOS].status is OutcomeStatus.UNVERIFIED
    source = sim.source()
    recorded: list[str] = []

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            recorded.append(request.url.path)
            assert source.transport is not None
            return await source.transport.handle_async_request(request)

    asyncio.run(
        extract_async(
            "arbor",
            settings={**source.settings, **FAST},
            credentials=dict(source.credentials),
            transport=Recording(),
            datasets=[Dataset.PHOTOS],
        )
    )
    asked = {p.rsplit("/", 1)[1] for p in recorded if "/profile-picture/staff/" in p}
    assert asked and not asked & FORMER


def test_the_pre_flight_names_the_contract_fields_it_needs() -> None:
    sim = simulator(_school(), hidden_fields={"StaffContract.endDate"})
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.STAFF].missing == ("StaffContract.endDate",)
    assert checks[Dataset.PHOTOS].missing == ("StaffContract.endDate",)
    # Including former staff needs no contracts at all.
    assert asyncio.run(_check(sim, include_former_staff="yes"))[Dataset.STAFF].ok
    result = _extract(sim, [Dataset.STAFF])
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "StaffContract.endDate" in (result.outcomes[Dataset.STAFF].message or "")


def test_incremental_reads_follow_contract_changes() -> None:
    school = _school()
    sim = simulator(school)
    first = _extract(sim, [Dataset.STAFF])
    assert first.ok
    after = datetime.now(UTC)
    rehired = "L9001"
    sim.store.add(
        "StaffContract",
        {
            "staff": sim.store.entities["StaffContract"][
                next(
                    i
                    for i, c in sim.store.entities["StaffContract"].items()
                    if c["staff"].id == rehired
                )
            ]["staff"],
            "startDate": date.today() - timedelta(days=2),
            "endDate": None,
        },
    )
    source = sim.source()
    since = asyncio.run(
        extract_async(
            "arbor",
            settings={**source.settings, **FAST},
            credentials=dict(source.credentials),
            transport=source.transport,
            datasets=[Dataset.STAFF],
            since=after,
            checkpoints=first.checkpoints,
        )
    )
    assert _staff_ids(since) == {rehired}


# -- permission errors in Arbor's documented wording ----------------------------------------
def test_the_simulator_words_refusals_as_arbor_documents_them() -> None:
    sim = simulator(_school(), hidden_fields={"Student.upn"})
    body = _post(sim, "query { Student(page_size: 1, page_num: 0) { id upn } }").json()
    assert body["errors"][0]["message"] == "You do not have access to `Student.upn`."


def test_every_refused_field_is_named_by_the_pre_flight() -> None:
    hidden = {"Student.upn", "Person.dateOfBirth", "Staff.timetableAbbreviation"}
    checks = asyncio.run(_check(simulator(_school(), hidden_fields=hidden)))
    assert set(checks[Dataset.STUDENTS].missing) == {"Student.upn", "Person.dateOfBirth"}
    assert checks[Dataset.STAFF].missing == ("Staff.timetableAbbreviation",)
    assert checks[Dataset.YEARS].ok and checks[Dataset.GROUPS].ok


@pytest.mark.parametrize(
    "wording",
    [
        "You do not have access to `{field}`.",
        "Access denied: the application may not read {field}",
        "The application may not read {field}",
    ],
)
def test_refusals_are_recognised_in_every_known_wording(wording: str) -> None:
    sim = simulator(_school(), hidden_fields={"Student.upn"}, denied_message=wording)
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.STUDENTS].missing == ("Student.upn",)
    result = _extract(sim, [Dataset.STUDENTS, Dataset.STAFF])
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "Student.upn" in (outcome.message or "")
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.UNVERIFIED


# -- the simulator's own correctness ------------------------------------------------------
def test_registration_form_tutors_are_a_list_not_a_server_error() -> None:
    school = _school()
    sim = simulator(school)
    answer = _post(
        sim,
        "query { RegistrationForm(page_size: 50, page_num: 0) { id tutors { id staff { id } } } }",
    )
    assert answer.status_code == 200
    forms = answer.json()["data"]["RegistrationForm"]
    tutors = {(f["id"], t["staff"]["id"]) for f in forms for t in f["tutors"]}
    want = {
        (m.group_mis_id, m.person_mis_id)
        for m in school.memberships
        if m.group_kind.value == "registration" and m.role.value == "staff"
    }
    assert tutors == want and want
    unknown = _post(
        sim, "query { RegistrationForm(page_size: 5, page_num: 0) { id shoes { id } } }"
    )
    assert unknown.status_code == 200
    assert "shoes" in unknown.json()["errors"][0]["message"]


@pytest.mark.parametrize("trace", ["", None, "#0 /var/www/arbor/index.php(12)"])
def test_the_error_trace_is_a_string_or_absent(trace: str | None) -> None:
    sim = simulator(_school(), error_trace=trace)

    async def go() -> httpx.Response:
        source = sim.source()
        async with httpx.AsyncClient(
            transport=source.transport,
            base_url=source.settings["base_url"],
            auth=tuple(source.credentials.values()),  # type: ignore[arg-type]
        ) as client:
            return await client.get("/rest-v2/students/424242")

    error = asyncio.run(go()).json()["response"]["errors"][0]
    if trace is None:
        assert "trace" not in error
    else:
        assert error["trace"] == trace


def test_graphql_s_default_page_size_is_an_option() -> None:
    school = _school()
    few = simulator(school, graphql_default_page_size=3)
    rows = _post(few, "query { Student { id } }").json()["data"]["Student"]
    assert len(rows) == 3
    default = simulator(school)
    rows = _post(default, "query { Student { id } }").json()["data"]["Student"]
    assert len(rows) == len(school.students)  # 3000 by default: the whole small school
