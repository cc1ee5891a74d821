"""The simulator speaks Arbor's wire format (docs/plugins/arbor.md lists its sources)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from misbridge.model import Dataset, Role
from misbridge.testing.school import sample_school
from misbridge_arbor.simulator import ArborSimulator, simulator

Call = Callable[..., Awaitable[httpx.Response]]


def _client(sim: ArborSimulator, **auth: str) -> httpx.AsyncClient:
    source = sim.source()
    user = auth.get("user", source.credentials["username"])
    key = auth.get("key", source.credentials["api_key"])
    return httpx.AsyncClient(
        transport=source.transport, base_url=source.settings["base_url"], auth=(user, key)
    )


def _run(sim: ArborSimulator, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with _client(sim) as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def sim() -> ArborSimulator:
    return simulator(sample_school(students=30, staff=4))


def _graphql(sim: ArborSimulator, query: str) -> dict[str, Any]:
    answer = _run(sim, "POST", "/graphql/query", json={"query": query})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_listing_returns_references_only_under_a_plural_root(sim: ArborSimulator) -> None:
    body = _run(sim, "GET", "/rest-v2/teaching-group-memberships", params={"page-size": 3})
    rows = body.json()["teachingGroupMemberships"]
    assert len(rows) == 3
    for row in rows:
        assert set(row) == {"entityType", "href", "id", "displayName"}
        assert row["entityType"] == "TeachingGroupMembership"
        assert row["href"] == f"/rest-v2/teaching-group-memberships/{row['id']}"


def test_object_has_a_singular_root_nested_references_and_date_objects(
    sim: ArborSimulator,
) -> None:
    student = sim.school.students[0]
    body = _run(sim, "GET", f"/rest-v2/students/{student.mis_id}").json()
    assert list(body) == ["student"]
    record = body["student"]
    assert record["href"] == f"/rest-v2/students/{student.mis_id}"
    assert record["person"]["entityType"] == "Person"
    assert record["person"]["legalFirstName"] == student.legal_forename
    assert record["person"]["dateOfBirth"] == {
        "entityType": "date",
        "date": f"{student.date_of_birth} 00:00:00",
    }
    assert "upn" not in record  # documented on GraphQL only


def test_paging_counts_from_the_configured_first_page(sim: ArborSimulator) -> None:
    first = _run(sim, "GET", "/rest-v2/staff", params={"page-size": 3, "page-number": 1})
    second = _run(sim, "GET", "/rest-v2/staff", params={"page-size": 3, "page-number": 2})
    ids = [r["id"] for r in first.json()["staff"] + second.json()["staff"]]
    # The school's staff, then the former staff Arbor still holds.
    assert ids == [s.mis_id for s in sim.school.staff] + ["L9001", "L9002"]
    zero_based = simulator(sample_school(students=14, staff=4), rest_first_page=0)
    page = _run(zero_based, "GET", "/rest-v2/staff", params={"page-size": 3, "page-number": 0})
    assert [r["id"] for r in page.json()["staff"]] == ids[:3]


def test_filters_by_href_and_null(sim: ArborSimulator) -> None:
    group = next(g for g in sim.school.groups if g.mis_id.startswith("C"))
    answer = _run(
        sim,
        "GET",
        "/rest-v2/teaching-group-memberships",
        params={"filters.teachingGroup.equals": f"/rest-v2/teaching-groups/{group.mis_id}"},
    )
    expected = [
        m
        for m in sim.school.memberships
        if m.group_mis_id == group.mis_id and m.role is Role.STUDENT
    ]
    assert len(answer.json()["teachingGroupMemberships"]) == len(expected)
    nulls = _run(sim, "GET", "/rest-v2/students", params={"filters.leavingDate.equals": "NULL"})
    leavers = [s for s in sim.school.students if s.leaving_date is not None]
    assert len(nulls.json()["students"]) == len(sim.school.students) - len(leavers)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/rest-v2/no-such-things", 404),
        ("/rest-v2/students/424242", 404),
        ("/rest-v2/students?filters.shoeSize.equals=9", 422),
        ("/rest-v2/students?page-size=0", 422),
        ("/rest-v2/students/changelog", 422),
    ],
)
def test_errors_use_arbors_error_body(sim: ArborSimulator, path: str, status: int) -> None:
    answer = _run(sim, "GET", path)
    assert answer.status_code == status
    body = answer.json()["response"]
    assert body["code"] == status
    assert body["reason"]
    assert body["errors"][0]["exception"].startswith("Arbor\\Exception\\")
    assert body["errors"][0]["message"]


def test_wrong_credentials_and_missing_application_id_are_401() -> None:
    sim = simulator(sample_school(students=14, staff=3), application_id="app-77")

    async def go() -> list[int]:
        async with _client(sim, key="nope") as wrong:
            bad = await wrong.get("/rest-v2/students")
        async with _client(sim) as right:
            no_app = await right.get("/rest-v2/students")
            with_app = await right.get(
                "/rest-v2/students", headers={"x-mis-application-id": "app-77"}
            )
        return [bad.status_code, no_app.status_code, with_app.status_code]

    assert asyncio.run(go()) == [401, 401, 200]


def test_change_log_accepts_both_sdk_spellings() -> None:
    sim = simulator(sample_school(students=14, staff=3))
    before = sim.store.revision
    student = sim.school.students[0].mis_id
    sim.store.update("Student", student, studentNumber="X1")
    sim.store.delete("Student", sim.school.students[1].mis_id)
    php = _run(sim, "GET", "/rest-v2/students/changelog", params={"from-revision": before})
    dotnet = _run(sim, "GET", "/rest-v2/students/changelog", params={"fromRevision": before})
    assert php.json() == dotnet.json()
    changes = php.json()["changes"]
    assert [c["changeType"] for c in changes] == ["update", "delete"]
    assert changes[0]["changedObject"]["studentNumber"] == "X1"
    assert changes[1]["toRevision"] == sim.store.revision
    bounded = _run(
        sim,
        "GET",
        "/rest-v2/students/changelog",
        params={"fromRevision": before, "toRevision": before + 1},
    )
    assert len(bounded.json()["changes"]) == 1


def test_graphql_pages_are_zero_based(sim: ArborSimulator) -> None:
    first = _graphql(sim, "query { Staff(page_size: 2, page_num: 0) { id } }")
    second = _graphql(sim, "query { Staff(page_size: 2, page_num: 1) { id } }")
    ids = [r["id"] for r in first["data"]["Staff"] + second["data"]["Staff"]]
    assert ids == [s.mis_id for s in sim.school.staff]


def test_graphql_serves_documented_student_fields(sim: ArborSimulator) -> None:
    student = sim.school.students[0]
    body = _graphql(
        sim,
        "query { Student(page_size: 1, page_num: 0) "
        "{ id upn legalFirstName displayAcademicLevel { curriculumGrade } } }",
    )
    (row,) = body["data"]["Student"]
    assert row == {
        "id": int(student.mis_id),
        "upn": student.upn,
        "legalFirstName": student.legal_forename,
        "displayAcademicLevel": {"curriculumGrade": student.year_group},
    }


def test_graphql_errors_name_fields_the_app_may_not_read() -> None:
    sim = simulator(sample_school(students=14, staff=3), hidden_fields={"Student.upn"})
    body = _graphql(sim, "query { Student(page_size: 5, page_num: 0) { id upn } }")
    assert "data" not in body
    assert "Student.upn" in body["errors"][0]["message"]
    denied = simulator(sample_school(students=14, staff=3), deny=[Dataset.STAFF])
    body = _graphql(denied, "query { Staff(page_size: 5, page_num: 0) { id } }")
    assert "Staff.id" in body["errors"][0]["message"]


def test_graphql_refuses_bad_queries(sim: ArborSimulator) -> None:
    assert "errors" in _graphql(sim, "query { Student(page_size: 1 { id } }")
    unknown = _graphql(sim, "query { Student(page_size: 1, page_num: 0) { shoeSize } }")
    assert "shoeSize" in unknown["errors"][0]["message"]
    assert "errors" in _run(sim, "POST", "/graphql/query", json={"q": 1}).json()


def test_throttles_after_n_requests_with_the_error_body() -> None:
    sim = simulator(sample_school(students=14, staff=3), throttle_after=2, retry_after="7")
    answers = [_run(sim, "GET", "/rest-v2/houses") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "7"
    assert answers[2].json()["response"]["code"] == 429
    assert sim.throttled == 1


def test_profile_pictures_are_bytes_or_404(sim: ArborSimulator) -> None:
    photo = sim.school.photos[0]
    answer = _run(sim, "GET", f"/rest-v2/profile-picture/student/{photo.person_mis_id}")
    assert answer.status_code == 200
    assert answer.content == photo.data
    assert answer.headers["content-type"] == "application/octet-stream"
    without = sim.school.students[-1].mis_id
    assert _run(sim, "GET", f"/rest-v2/profile-picture/student/{without}").status_code == 404
