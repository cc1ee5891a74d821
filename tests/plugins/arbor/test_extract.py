"""The plugin through its real HTTP code against the simulator: faults, errors, modes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from misbridge.errors import AuthenticationError
from misbridge.hooktypes import PermissionCheck
from misbridge.model import Dataset, Photo, Student
from misbridge.pipeline import extract_async, prepare_context
from misbridge.plugins import get_plugin_manager
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.simulation import Fault
from misbridge.testing.school import sample_school
from misbridge_arbor import INFO
from misbridge_arbor.simulator import ArborSimulator, simulator

FAST_RETRIES = {"http_wait_initial": "0.01", "http_wait_max": "0.05", "http_attempts": "8"}


def _school() -> Any:
    return sample_school(students=24, staff=4)


def _extract(
    sim: ArborSimulator,
    datasets: list[Dataset] | None = None,
    credentials: dict[str, str] | None = None,
    since: datetime | None = None,
    checkpoints: Any = None,
    **settings: str,
) -> ExtractResult:
    source = sim.source()
    return asyncio.run(
        extract_async(
            "arbor",
            settings={**source.settings, **FAST_RETRIES, **settings},
            credentials=credentials or dict(source.credentials),
            transport=source.transport,
            datasets=datasets,
            since=since,
            checkpoints=checkpoints,
        )
    )


def _students(result: ExtractResult) -> dict[str, Student]:
    return {s.mis_id: s for s in result.of(Dataset.STUDENTS) if isinstance(s, Student)}


def test_throttling_is_waited_out_and_the_extract_completes() -> None:
    sim = simulator(_school(), throttle_after=4, throttle_window=0.2)
    result = _extract(sim, http_attempts="30")
    assert result.ok, result.outcomes
    assert sim.throttled > 0
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.records + outcome.rejected == len(sim.school.students)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", match="/graphql/query", times=2, status=503),
        Fault.rate_limit(match="/graphql/query", times=2, retry_after="0"),
        Fault("html", match="/graphql/query", times=1),
        Fault("truncate", match="/graphql/query", times=1),
    ],
    ids=["503", "429", "maintenance-page", "cut-short"],
)
def test_transient_faults_are_retried(fault: Fault) -> None:
    sim = simulator(_school(), faults=[fault])
    result = _extract(sim)
    assert result.ok, result.outcomes
    assert sim.injector.faults_fired == fault.times


def test_a_dataset_that_keeps_failing_fails_alone() -> None:
    sim = simulator(_school(), faults=[Fault("status", match="profile-picture", times=99)])
    result = _extract(sim, datasets=[Dataset.STAFF, Dataset.PHOTOS], http_attempts="2")
    assert result.outcomes[Dataset.PHOTOS].status is OutcomeStatus.FAILED
    assert "HTTP 503" in (result.outcomes[Dataset.PHOTOS].message or "")
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.UNVERIFIED


def test_wrong_credentials_say_what_to_check_without_the_key() -> None:
    sim = simulator(_school())
    wrong = dict(sim.wrong_credentials())
    with pytest.raises(AuthenticationError) as raised:
        _extract(sim, credentials=wrong)
    message = str(raised.value)
    assert "approved the application" in message
    assert wrong["api_key"] not in message


def test_partner_host_needs_the_application_id() -> None:
    sim = simulator(_school(), application_id="app-42")
    assert sim.source().settings["application_id"] == "app-42"
    assert _extract(sim, datasets=[Dataset.YEARS]).ok
    with pytest.raises(AuthenticationError, match="application id"):
        _extract(sim, datasets=[Dataset.YEARS], application_id="app-43")


def test_arbors_validation_message_reaches_the_outcome() -> None:
    sim = simulator(_school(), max_page_size=100)
    graphql = _extract(sim, datasets=[Dataset.STAFF], page_size="500")
    assert "page_size may not exceed 100" in (graphql.outcomes[Dataset.STAFF].message or "")
    rest = _extract(sim, datasets=[Dataset.STAFF], read_mode="rest", rest_page_size="500")
    message = rest.outcomes[Dataset.STAFF].message or ""
    assert "HTTP 422" in message
    assert "page-size may not exceed 100" in message


async def _check(sim: ArborSimulator, **settings: str) -> dict[Dataset, PermissionCheck]:
    pm = get_plugin_manager()
    hooks = pm.for_mis("arbor")
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


def test_a_field_the_app_may_not_read_is_named() -> None:
    sim = simulator(_school(), hidden_fields={"Student.upn", "TeachingGroup.subject"})
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.STUDENTS].missing == ("Student.upn",)
    assert checks[Dataset.GROUPS].missing == ("TeachingGroup.subject",)
    assert checks[Dataset.STAFF].ok and checks[Dataset.YEARS].ok and checks[Dataset.PHOTOS].ok
    result = _extract(sim)
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.FAILED
    assert "Student.upn" in (result.outcomes[Dataset.STUDENTS].message or "")
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.UNVERIFIED


def test_denied_photos_are_named_by_the_pre_flight() -> None:
    sim = simulator(_school(), deny=[Dataset.PHOTOS])
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.PHOTOS].missing
    assert "profile pictures" in checks[Dataset.PHOTOS].missing[0]


def test_rest_mode_names_the_resource_it_may_not_read() -> None:
    sim = simulator(_school(), deny=[Dataset.STAFF])
    result = _extract(sim, datasets=[Dataset.STAFF, Dataset.YEARS], read_mode="rest")
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "/rest-v2/staff" in (result.outcomes[Dataset.STAFF].message or "")
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.UNVERIFIED


def test_rest_mode_costs_one_request_per_object() -> None:
    sim = simulator(_school())
    graphql_before = sim.requests
    _extract(sim, datasets=[Dataset.STAFF])
    graphql_requests = sim.requests - graphql_before
    rest_before = sim.requests
    result = _extract(sim, datasets=[Dataset.STAFF], read_mode="rest")
    rest_requests = sim.requests - rest_before
    staff, emails = len(sim.school.staff), sum(len(s.emails) for s in sim.school.staff)
    assert result.ok
    # The credentials probe, one page of staff and one of their contracts (who is current).
    assert graphql_requests == 3
    assert rest_requests >= 1 + staff + emails  # probe, then every staff and email object


def test_photos_are_sniffed_when_the_content_type_is_generic() -> None:
    sim = simulator(_school())
    result = _extract(sim, datasets=[Dataset.PHOTOS])
    photos = [p for p in result.of(Dataset.PHOTOS) if isinstance(p, Photo)]
    assert len(photos) == len(sim.school.photos)
    assert {p.media_type for p in photos} == {"image/png"}
    assert {(p.person_mis_id, p.data) for p in photos} == {
        (p.person_mis_id, p.data) for p in sim.school.photos
    }


def test_an_ended_eligibility_clears_its_flag() -> None:
    school = _school()
    sim = simulator(school)
    holder = next(s for s in school.students if s.fsm is True)
    fsm = next(i for i, r in sim.store.entities["Eligibility"].items() if r["code"] == "FSM")
    for record_id, record in sim.store.entities["EligibilityRecord"].items():
        if record["person"].id == holder.mis_id and record["eligibility"].id == fsm:
            sim.store.update(
                "EligibilityRecord", record_id, endDate=date.today() - timedelta(days=1)
            )
    result = _extract(sim, datasets=[Dataset.STUDENTS])
    assert _students(result)[holder.mis_id].fsm is False


def test_since_reads_only_what_the_change_log_names() -> None:
    school = _school()
    sim = simulator(school)
    full = _extract(sim, datasets=[Dataset.STUDENTS, Dataset.STAFF])
    assert full.ok
    after_full = datetime.now(UTC)
    renamed, emailed, removed = (s.mis_id for s in school.students[:3])
    person = sim.store.entities["Student"][renamed]["person"]
    sim.store.update("Person", person.id, preferredLastName="Changed-Name")
    owner = next(
        r["emailAddressOwner"]
        for r in sim.store.entities["EmailAddress"].values()
        if r["emailAddressOwner"].id == emailed
    )
    sim.store.add(
        "EmailAddress",
        {
            "emailAddressOwner": owner,
            "emailAddressType": "WORK",
            "emailAddress": "new@example.org",
            "dataOrder": 9,
        },
    )
    sim.store.delete("Student", removed)
    before = sim.requests
    since = _extract(
        sim,
        datasets=[Dataset.STUDENTS, Dataset.STAFF],
        since=after_full,
        checkpoints=full.checkpoints,
    )
    assert since.ok
    assert since.outcomes[Dataset.STUDENTS].delta
    students = _students(since)
    assert set(students) == {renamed, emailed}
    # The deleted pupil is named, so that the store disables exactly that one.
    assert [(d.record, d.mis_id) for d in since.deletions[Dataset.STUDENTS]] == [
        ("Student", removed)
    ]
    assert students[renamed].preferred_surname == "Changed-Name"
    assert since.of(Dataset.STAFF) == []
    assert sim.requests - before < 20  # change logs and two small reads, not a full extract


def test_since_without_an_earlier_extract_reads_everything() -> None:
    sim = simulator(_school())
    result = _extract(sim, datasets=[Dataset.STAFF], since=datetime.now(UTC))
    assert len(result.of(Dataset.STAFF)) == len(sim.school.staff)


def test_since_before_the_last_extract_is_not_cut_short() -> None:
    sim = simulator(_school())
    earlier = datetime.now(UTC) - timedelta(hours=1)
    first = _extract(sim, datasets=[Dataset.STAFF])
    # The only checkpoint was taken after `earlier`: changes between them could be
    # missed, so the extract reads everything again.
    result = _extract(sim, datasets=[Dataset.STAFF], since=earlier, checkpoints=first.checkpoints)
    assert not result.outcomes[Dataset.STAFF].delta
    assert len(result.of(Dataset.STAFF)) == len(sim.school.staff)


def test_a_refused_credentials_probe_resource_fails_only_its_dataset() -> None:
    sim = simulator(_school(), deny=[Dataset.YEARS])
    result = _extract(sim, datasets=[Dataset.YEARS, Dataset.STAFF])
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.FAILED
    assert "AcademicYear" in (result.outcomes[Dataset.YEARS].message or "")
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.UNVERIFIED


def test_a_path_setting_the_school_does_not_have_is_refused_not_guessed() -> None:
    sim = simulator(_school())
    result = _extract(sim, datasets=[Dataset.GROUPS], class_subject_path="subject.shortName")
    # Memberships may have streamed before the classes were refused: never "complete".
    assert result.outcomes[Dataset.GROUPS].status in (OutcomeStatus.FAILED, OutcomeStatus.PARTIAL)
    assert "shortName" in (result.outcomes[Dataset.GROUPS].message or "")
