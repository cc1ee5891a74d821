"""Partner Data API 2.0 mode, through the plugin's real HTTP code and the simulator."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from structlog.testing import capture_logs

from misbridge.errors import AuthenticationError
from misbridge.model import Dataset, Photo, StaffMember, Student
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.simulation import Fault
from misbridge.source import SourceSchool
from misbridge_bromcom.simulator import APPLICATION_ID, APPLICATION_SECRET
from tests.plugins.bromcom.helpers import Recording, check, make, of_type, run


def students_of(result: ExtractResult) -> dict[str, Student]:
    return {s.mis_id: s for s in of_type(result, Dataset.STUDENTS, Student)}


async def test_requests_carry_the_filter_then_the_unencoded_page_marker(
    school: SourceSchool,
) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    result = await run(sim, datasets=[Dataset.STUDENTS], transport=recording)
    assert result.ok
    last = recording.sent[-1]
    assert last.url.path == "/v2/StudentFlatView"
    query = last.url.query.decode()
    assert query.startswith(f"schoolId={sim.school_id}&entityFilter=")
    assert query.endswith("{page:0}")
    encoded = query.removeprefix(f"schoolId={sim.school_id}&entityFilter=").removesuffix("{page:0}")
    assert "%20" in encoded and "'" not in encoded and " " not in encoded  # fully encoded
    since = sim.leavers_since().isoformat()
    assert unquote(encoded) == (f"enrolmentEndDate>='{since}' or isnull(enrolmentEndDate,'')=''")
    assert last.headers["ApplicationId"] == APPLICATION_ID
    assert last.headers["ApplicationSecret"] == APPLICATION_SECRET
    assert last.headers["Accept"] == "application/json"


async def test_the_credential_probe_reads_nobody(school: SourceSchool) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    await run(sim, datasets=[Dataset.YEARS], transport=recording)
    probe = unquote(recording.sent[0].url.query.decode())
    assert "studentId=-1" in probe


async def test_small_pages_are_followed_in_order(school: SourceSchool) -> None:
    whole = await run(make(school), datasets=[Dataset.STUDENTS, Dataset.GROUPS])
    sim = make(school, page_size=7)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    paged = await run(
        sim, settings={"page_size": "7"}, datasets=[Dataset.STUDENTS], transport=recording
    )
    assert students_of(paged) == students_of(whole)
    pages = [
        int(r.url.query.decode().rsplit("{page:", 1)[1].rstrip("}"))
        for r in recording.sent[1:]  # after the credential probe
    ]
    assert pages == list(range(len(pages)))
    # Every pupil of the school passes the filter (those who left long ago do not); the
    # last page is short, or empty when the count is a multiple of 7.
    assert len(pages) == len(school.students) // 7 + 1


async def test_a_larger_page_size_setting_than_the_server_s_loses_nothing(
    school: SourceSchool,
) -> None:
    """If the setting is wrong the other way round, a short page ends the entity."""
    sim = make(school, page_size=5)
    result = await run(sim, settings={"page_size": "5"}, datasets=[Dataset.STAFF])
    assert result.outcomes[Dataset.STAFF].records == len(school.staff)


@pytest.mark.parametrize(
    "body",
    [b'{"success": false, "data": null}', b'{"success": true, "data": null}', b"[]"],
)
async def test_an_unsuccessful_envelope_fails_the_dataset(
    school: SourceSchool, body: bytes
) -> None:
    sim = make(school, faults=[Fault("status", match="/v2/Staff", status=200, body=body)])
    result = await run(sim, datasets=[Dataset.STAFF, Dataset.STUDENTS])
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "Staff" in (result.outcomes[Dataset.STAFF].message or "")
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.UNVERIFIED


async def test_an_entity_not_granted_is_named_with_where_to_tick_it(
    school: SourceSchool,
) -> None:
    sim = make(school, deny=[Dataset.STAFF])
    result = await run(sim)
    outcome = result.outcomes[Dataset.STAFF]
    assert outcome.status is OutcomeStatus.FAILED
    assert "'Staff'" in (outcome.message or "")
    assert "Third Party Access Permissions" in (outcome.message or "")
    assert result.outcomes[Dataset.GROUPS].status is OutcomeStatus.UNVERIFIED
    # Photos need the staff list for the staff's photo ids.
    assert result.outcomes[Dataset.PHOTOS].status is not OutcomeStatus.COMPLETE

    checks = await check(sim)
    assert checks[Dataset.STAFF].missing == ("Staff",)
    assert checks[Dataset.PHOTOS].missing == ("Staff",)
    assert all(checks[d].ok for d in (Dataset.STUDENTS, Dataset.GROUPS, Dataset.YEARS))


async def test_permission_probes_read_no_rows(school: SourceSchool) -> None:
    sim = make(school, deny=[Dataset.GROUPS, Dataset.PHOTOS])
    source = sim.source()
    recording = Recording(source.transport)  # type: ignore[arg-type]
    checks = await check(sim, transport=recording)
    assert checks[Dataset.GROUPS].missing == ("CollectionAssociates", "CollectionExecutives")
    assert checks[Dataset.PHOTOS].missing == ("ImageDisplay.ashx",)
    for request in recording.sent:
        if request.url.path.startswith("/v2/"):
            assert unquote(request.url.query.decode()).split("{page:")[0].endswith("=-1")


async def test_throttling_outages_and_broken_answers_are_retried(school: SourceSchool) -> None:
    clean = make(school)
    expected = await run(clean)
    faults = [
        Fault.rate_limit(match="/v2/StudentFlatView", skip=1, retry_after="0"),
        Fault("status", match="/v2/CollectionAssociates", status=503),
        Fault("html", match="/v2/Staff"),
        Fault("truncate", match="/v2/Subjects"),
        Fault("status", match="ImageDisplay", status=502, times=2),
    ]
    sim = make(school, faults=faults)
    result = await run(sim)
    assert result.ok
    for dataset in Dataset:
        assert result.of(dataset) == expected.of(dataset), dataset
    assert sim.app.faults_fired == 6
    assert sim.requests == clean.requests + 6


async def test_wrong_credentials_fail_at_once_without_showing_them(school: SourceSchool) -> None:
    sim = make(school)
    wrong = dict(sim.wrong_credentials())
    with pytest.raises(AuthenticationError) as raised:
        await run(sim, credentials=wrong)
    assert wrong["application_secret"] not in str(raised.value)
    assert "application_secret" in str(raised.value)
    assert sim.requests == 1  # a refusal is final: not retried


async def test_pupils_who_left_long_ago_are_not_read_but_this_year_s_leavers_are(
    school: SourceSchool,
) -> None:
    result = await run(make(school), datasets=[Dataset.STUDENTS])
    students = students_of(result)
    assert not any(mis_id.startswith("800000") for mis_id in students)
    leaver = students["90006"]
    assert leaver.leaving_date is not None


async def test_undocumented_names_can_be_changed_on_both_sides(school: SourceSchool) -> None:
    renamed = {"students.fsm": "freeMealsFlag", "type.house": "HSE"}
    plain = await run(make(school), datasets=[Dataset.STUDENTS, Dataset.GROUPS])
    sim = make(school, wire_names=renamed)
    both = await run(sim, datasets=[Dataset.STUDENTS, Dataset.GROUPS])
    assert students_of(both) == students_of(plain)
    assert both.of(Dataset.GROUPS) == plain.of(Dataset.GROUPS)
    # A plugin that does not know the school's names reads no FSM flags and no houses.
    stale = await run(sim, settings={"wire_names": ""}, datasets=[Dataset.STUDENTS, Dataset.GROUPS])
    assert all(s.fsm is None for s in students_of(stale).values())
    assert any(s.fsm for s in students_of(plain).values())
    assert len(stale.of(Dataset.GROUPS)) < len(plain.of(Dataset.GROUPS))


async def test_photos_come_from_image_display_by_photo_id(school: SourceSchool) -> None:
    result = await run(make(school), datasets=[Dataset.PHOTOS])
    photos = {(p.person_mis_id, p.role): p for p in of_type(result, Dataset.PHOTOS, Photo)}
    want = {(p.person_mis_id, p.role): p.data for p in school.photos}
    assert {k: p.data for k, p in photos.items()} == want
    assert {p.media_type for p in photos.values()} == {"image/png"}


async def test_secrets_never_reach_the_log(school: SourceSchool) -> None:
    sim = make(school, faults=[Fault("status", match="/v2/Staff", status=503)])
    with capture_logs() as logs:
        await run(sim)
        with pytest.raises(AuthenticationError):
            await run(sim, credentials=dict(sim.wrong_credentials()))
    text = repr(logs)
    assert logs and APPLICATION_SECRET not in text
    assert sim.wrong_credentials()["application_secret"] not in text


async def test_staff_map_to_the_model(school: SourceSchool) -> None:
    result = await run(make(school), datasets=[Dataset.STAFF])
    staff = {s.mis_id: s for s in of_type(result, Dataset.STAFF, StaffMember)}
    first = school.staff[0]
    got = staff[first.mis_id]
    assert (got.forename, got.surname, got.staff_code) == (
        first.forename,
        first.surname,
        first.staff_code,
    )
    assert got.work_email == next(e.address for e in first.emails if e.type == "W")
