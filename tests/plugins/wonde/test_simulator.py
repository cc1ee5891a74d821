"""The simulator speaks Wonde's wire format (docs/plugins/wonde.md lists each fact's source)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from misbridge.model import Dataset
from misbridge.source import SourceSchool
from misbridge_wonde.simulator import WondeSimulator, simulate

SCHOOL = "SCH4321"


@pytest.fixture
def sim(small_school: SourceSchool) -> WondeSimulator:
    return simulate(small_school)


@pytest.fixture
async def client(sim: WondeSimulator) -> AsyncIterator[httpx.AsyncClient]:
    source = sim.source()
    async with httpx.AsyncClient(
        transport=source.transport,
        base_url=source.settings["base_url"],
        headers={"Authorization": f"Bearer {sim.token}"},
    ) as c:
        yield c


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer {token}",
        "bearer {token}",  # the .NET client's lower-case scheme
        "BEARER {token}",
        "Basic {basic}",  # the PHP client: token as user name, empty password
        "basic {basic}",
    ],
)
async def test_bearer_and_basic_are_accepted_case_insensitively(
    sim: WondeSimulator, header: str
) -> None:
    basic = base64.b64encode(f"{sim.token}:".encode()).decode()
    source = sim.source()
    async with httpx.AsyncClient(transport=source.transport) as c:
        response = await c.get(
            source.settings["base_url"] + "schools",
            headers={"Authorization": header.format(token=sim.token, basic=basic)},
        )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["", "Bearer wrong", "Basic " + base64.b64encode(b"wrong:").decode(), "Token abc"],
)
async def test_bad_credentials_get_401(sim: WondeSimulator, header: str) -> None:
    source = sim.source()
    async with httpx.AsyncClient(transport=source.transport) as c:
        response = await c.get(
            source.settings["base_url"] + "schools", headers={"Authorization": header}
        )
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthenticated."}


async def test_basic_with_a_password_is_refused(sim: WondeSimulator) -> None:
    source = sim.source()
    wrong = base64.b64encode(f"{sim.token}:secret".encode()).decode()
    async with httpx.AsyncClient(transport=source.transport) as c:
        response = await c.get(
            source.settings["base_url"] + "schools", headers={"Authorization": f"Basic {wrong}"}
        )
    assert response.status_code == 401


async def test_pagination_meta_has_wonde_types(client: httpx.AsyncClient) -> None:
    body = await get(client, f"schools/{SCHOOL}/students", per_page="15")
    meta = body["meta"]["pagination"]
    assert meta["per_page"] == 15  # an integer
    assert meta["current_page"] == 1  # an int
    assert meta["more"] is True and meta["previous"] is None
    assert meta["next"].startswith("https://api.wonde.invalid/v1.0/schools/")  # absolute
    assert "per_page=15" in meta["next"] and "page=2" in meta["next"]
    last = await get(client, f"schools/{SCHOOL}/students", per_page="15", page="3")
    assert last["meta"]["pagination"]["more"] is False
    assert last["meta"]["pagination"]["next"] is None
    assert last["meta"]["pagination"]["previous"].endswith("page=2")
    assert len(body["data"]) == 15 and len(last["data"]) == 10


async def test_default_and_maximum_page_sizes(small_school: SourceSchool) -> None:
    sim = simulate(small_school, default_per_page=7, max_per_page=12)
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        base = source.settings["base_url"] + f"schools/{SCHOOL}/students"
        default = (await c.get(base)).json()
        capped = (await c.get(base, params={"per_page": "500"})).json()
        invalid = await c.get(base, params={"per_page": "lots"})
    assert default["meta"]["pagination"]["per_page"] == 7 and len(default["data"]) == 7
    assert capped["meta"]["pagination"]["per_page"] == 12 and len(capped["data"]) == 12
    assert invalid.status_code == 422 and "per_page" in invalid.json()["errors"]


async def test_cursor_mode_walks_every_record_once(client: httpx.AsyncClient) -> None:
    body = await get(client, f"schools/{SCHOOL}/classes", cursor="true", per_page="25")
    seen = [c["id"] for c in body["data"]]
    while body["meta"]["pagination"]["more"]:
        nxt = body["meta"]["pagination"]["next"]
        cursor = httpx.URL(nxt).params["cursor"]
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        assert list(decoded) == ["mis_classes.id"]  # base64 of {"mis_<table>.id": n}
        response = await client.get(nxt)
        body = response.json()
        seen += [c["id"] for c in body["data"]]
    assert len(seen) == len(set(seen))
    everything = await get(client, f"schools/{SCHOOL}/classes", per_page="200")
    assert sorted(seen) == sorted(c["id"] for c in everything["data"])


async def test_a_bad_cursor_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.get(f"schools/{SCHOOL}/classes", params={"cursor": "!!!"})
    assert response.status_code == 422


async def test_includes_are_wrapped_in_data(client: httpx.AsyncClient) -> None:
    body = await get(
        client,
        f"schools/{SCHOOL}/students",
        include="contact_details,year,classes.subject,groups",
        per_page="1",
    )
    student = body["data"][0]
    assert isinstance(student["contact_details"]["data"], dict)
    assert student["year"]["data"]["code"] == "7"
    classes = student["classes"]["data"]
    assert classes and all(isinstance(c["subject"]["data"]["name"], str) for c in classes)
    assert {g["type"] for g in student["groups"]["data"]} == {"YEAR", "HOUSE", "REGISTRATION"}
    plain = await get(client, f"schools/{SCHOOL}/classes", per_page="1")
    assert isinstance(plain["data"][0]["subject"], str)  # an id without include=subject


async def test_dates_are_carbon_objects(client: httpx.AsyncClient) -> None:
    body = await get(client, f"schools/{SCHOOL}/students", per_page="1")
    born = body["data"][0]["date_of_birth"]
    assert set(born) == {"date", "timezone_type", "timezone"}
    assert born["timezone_type"] == 3 and born["timezone"] == "UTC"
    assert len(born["date"]) == len("2022-09-05 14:21:15.000000")


async def test_counts(client: httpx.AsyncClient, small_school: SourceSchool) -> None:
    body = await get(client, f"schools/{SCHOOL}/counts", include="students,employees")
    assert body["data"]["students"]["data"]["count"] == len(small_school.students)
    assert body["data"]["employees"]["data"]["count"] == len(small_school.staff)


async def test_hidden_scopes_come_back_null(small_school: SourceSchool) -> None:
    sim = simulate(small_school, hidden={"students.date_of_birth", "students.contact_details"})
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        response = await c.get(
            source.settings["base_url"] + f"schools/{SCHOOL}/students",
            params={"include": "contact_details,year", "per_page": "3"},
        )
    for student in response.json()["data"]:
        assert "date_of_birth" in student and student["date_of_birth"] is None  # kept, null
        assert student["contact_details"] is None
        assert student["year"]["data"] is not None


async def test_denied_datasets_answer_the_configured_status(small_school: SourceSchool) -> None:
    sim = simulate(small_school, deny=[Dataset.STAFF], deny_status=401)
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        base = source.settings["base_url"] + f"schools/{SCHOOL}/"
        denied = await c.get(base + "employees")
        classes = await c.get(base + "classes", params={"include": "employees", "per_page": "1"})
    assert denied.status_code == 401
    assert classes.json()["data"][0]["employees"] is None


async def test_updated_after_and_deletions(sim: WondeSimulator, client: httpx.AsyncClient) -> None:
    sim.touch("students", "10003", datetime(2026, 10, 1, 9, 0, 0))
    sim.delete("students", "10004", datetime(2026, 10, 2, 9, 0, 0))
    changed = await get(client, f"schools/{SCHOOL}/students", updated_after="2026-09-15 00:00:00")
    assert [s["id"] for s in changed["data"]] == ["10003"]
    assert changed["data"][0]["updated_at"]["date"].startswith("2026-10-01 09:00:00")
    gone = await get(client, f"schools/{SCHOOL}/deletions")
    assert gone["data"] == [
        {
            "id": "10004",
            "type": "student",
            "mis_id": "10004",
            "deleted_at": {
                "date": "2026-10-02 09:00:00.000000",
                "timezone_type": 3,
                "timezone": "UTC",
            },
            "restored_at": None,
        }
    ]
    assert (await client.get(f"schools/{SCHOOL}/students/10004")).status_code == 404
    later = await get(client, f"schools/{SCHOOL}/deletions", updated_after="2026-10-03 00:00:00")
    assert later["data"] == []
    bad = await client.get(f"schools/{SCHOOL}/students", params={"updated_after": "yesterday"})
    assert bad.status_code == 422 and "updated_after" in bad.json()["errors"]
    sim.restore("students", "10004", datetime(2026, 10, 5, 8, 0, 0))
    back = await get(client, f"schools/{SCHOOL}/students/10004")
    assert back["data"]["restored_at"]["date"] == "2026-10-05 08:00:00.000000"
    (row,) = (await get(client, f"schools/{SCHOOL}/deletions"))["data"]
    assert row["restored_at"]["date"] == "2026-10-05 08:00:00.000000"
    # The restore is a change: a delta from before it reads the pupil again.
    again = await get(client, f"schools/{SCHOOL}/students", updated_after="2026-10-04")
    assert [s["id"] for s in again["data"]] == ["10004"]


async def test_dates_alone_and_updated_before_filter(
    sim: WondeSimulator, client: httpx.AsyncClient
) -> None:
    sim.touch("students", "10003", datetime(2026, 10, 1, 9, 0, 0))
    sim.touch("students", "10005", datetime(2026, 10, 3, 9, 0, 0))
    between = await get(
        client,
        f"schools/{SCHOOL}/students",
        updated_after="2026-10-01",
        updated_before="2026-10-02",
    )
    assert [s["id"] for s in between["data"]] == ["10003"]
    bad = await client.get(f"schools/{SCHOOL}/students", params={"updated_before": "soon"})
    assert bad.status_code == 422 and "updated_before" in bad.json()["errors"]


async def test_deletions_filter_by_type_and_moment(
    sim: WondeSimulator, client: httpx.AsyncClient
) -> None:
    sim.delete("students", "10004", datetime(2026, 10, 2, 9, 0, 0))
    sim.delete("classes", "C7Ma1", datetime(2026, 10, 3, 9, 0, 0))
    sim.delete("employees", "S1001", datetime(2026, 10, 4, 9, 0, 0))
    rows = await get(client, f"schools/{SCHOOL}/deletions", type="class")
    assert [(r["id"], r["type"]) for r in rows["data"]] == [("C7Ma1", "class")]
    early = await get(client, f"schools/{SCHOOL}/deletions", updated_before="2026-10-03")
    assert [r["id"] for r in early["data"]] == ["10004"]
    late = await get(client, f"schools/{SCHOOL}/deletions", updated_after="2026-10-03 12:00:00")
    assert [r["id"] for r in late["data"]] == ["S1001"]


async def test_a_small_list_comes_without_meta(client: httpx.AsyncClient) -> None:
    # 5 employees: at 50 rows or fewer Wonde sends no pagination object.
    staff = await get(client, f"schools/{SCHOOL}/employees")
    assert len(staff["data"]) == 5 and "meta" not in staff
    cursor = await get(client, f"schools/{SCHOOL}/employees", cursor="true")
    assert len(cursor["data"]) == 5 and "meta" not in cursor
    # 40 students on pages of 15 do not fit one page: paginated as usual.
    paged = await get(client, f"schools/{SCHOOL}/students", per_page="15")
    assert paged["meta"]["pagination"]["more"] is True
    # cursor pages carry no page size or number (null in cursor mode)
    walk = await get(client, f"schools/{SCHOOL}/students", cursor="true", per_page="15")
    assert walk["meta"]["pagination"]["per_page"] is None
    assert walk["meta"]["pagination"]["current_page"] is None


async def test_the_old_wire_forms_stay_options(small_school: SourceSchool) -> None:
    sim = simulate(
        small_school, per_page_type="string", unpaginated_up_to=None, gender_style="short"
    )
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        base = source.settings["base_url"] + f"schools/{SCHOOL}/"
        staff = (await c.get(base + "employees")).json()
        pupils = (await c.get(base + "students", params={"per_page": "50"})).json()
    assert staff["meta"]["pagination"]["per_page"] == "50"
    assert {s["gender"] for s in pupils["data"]} == {"M", "F", "X"}


async def test_genders_are_spelt_as_wonde_does(client: httpx.AsyncClient) -> None:
    pupils = await get(client, f"schools/{SCHOOL}/students")
    staff = await get(client, f"schools/{SCHOOL}/employees")
    assert {s["gender"] for s in pupils["data"]} == {"MALE", "FEMALE", "X"}
    assert {s["gender"] for s in staff["data"]} <= {"MALE", "FEMALE"}


async def test_employment_details_hold_the_documented_keys(small_school: SourceSchool) -> None:
    documented = {
        "current",
        "teaching_staff",
        "employment_start_date",
        "employment_end_date",
        "role_text",
    }
    for where, keys, code_key in (
        (
            "employment_details.staff_code",
            {"staff_code", "teacher_number", "employee_payroll_number"},
            "staff_code",
        ),
        (
            "employment_details.teacher_number",
            {"staff_code", "teacher_number", "employee_payroll_number"},
            "teacher_number",
        ),
        (None, set(), None),
    ):
        sim = simulate(small_school, staff_code_field=where)
        source = sim.source()
        headers = {"Authorization": f"Bearer {sim.token}"}
        async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
            body = (
                await c.get(
                    source.settings["base_url"] + f"schools/{SCHOOL}/employees",
                    params={"include": "employment_details"},
                )
            ).json()
        details = body["data"][0]["employment_details"]["data"]
        assert set(details) == documented | keys
        if code_key is not None:
            assert details[code_key] == small_school.staff[0].staff_code
    with pytest.raises(ValueError, match="employment_details"):
        simulate(small_school, staff_code_field="contact_details.code")


async def test_class_staff_only_from_the_class_side(small_school: SourceSchool) -> None:
    sim = simulate(small_school, employee_class_links=False)
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        base = source.settings["base_url"] + f"schools/{SCHOOL}/"
        staff = (await c.get(base + "employees", params={"include": "classes,groups"})).json()
        pupils = (
            await c.get(base + "students", params={"include": "classes.employees", "per_page": "1"})
        ).json()
    assert all(e["classes"]["data"] == [] for e in staff["data"])
    assert any(e["groups"]["data"] for e in staff["data"])  # form tutors are still linked
    taught = [t["id"] for c in pupils["data"][0]["classes"]["data"] for t in c["employees"]["data"]]
    assert taught and set(taught) <= {s.mis_id for s in small_school.staff}


async def test_the_wrong_regional_domain_returns_no_data(small_school: SourceSchool) -> None:
    sim = simulate(small_school, region_domain="api-ap-southeast-2.wonde.com")
    source = sim.source()
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with httpx.AsyncClient(transport=source.transport, headers=headers) as c:
        school = (await c.get(f"https://api.wonde.com/v1.0/schools/{SCHOOL}")).json()["data"]
        wrong = (await c.get(f"https://api.wonde.com/v1.0/schools/{SCHOOL}/students")).json()
        right = await c.get(f"https://api-ap-southeast-2.wonde.com/v1.0/schools/{SCHOOL}/students")
    assert school["region"]["domain"] == "api-ap-southeast-2.wonde.com"
    assert wrong["data"] == []
    assert len(right.json()["data"]) == 40


async def test_unknown_schools_and_paths(client: httpx.AsyncClient) -> None:
    assert (await client.get("schools/A0000000000")).status_code == 404
    assert (await client.get(f"schools/{SCHOOL}/nonsense")).status_code == 404
    trailing = await client.get(f"schools/{SCHOOL}/students/")  # the PHP client's form
    assert trailing.status_code == 200
    pending = await get(client, "schools/pending")
    assert pending["data"] == []
