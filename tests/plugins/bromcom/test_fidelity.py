"""Where Bromcom's real API differs from a naive reading: pupils' person ids, padded
text, exam types in many spellings, the names public clients show, a wrong school id."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from attrs import evolve
from click.testing import CliRunner
from structlog.testing import capture_logs

from misbridge.cli import build_cli
from misbridge.errors import PermissionDeniedError
from misbridge.model import Dataset, ExamResult, Group, Membership, Role
from misbridge.result import OutcomeStatus
from misbridge.source import SourceSchool
from misbridge.testing.conformance import expected_result
from misbridge_bromcom.cli import wire_names_markdown
from misbridge_bromcom.exam_types import DEFAULT_EXAM_TYPES, ExamTypes
from misbridge_bromcom.schema import ENTITIES
from misbridge_bromcom.sim_data import PERSON_ID_BASE
from misbridge_bromcom.simulator import APPLICATION_ID, APPLICATION_SECRET
from tests.plugins.bromcom.helpers import Recording, make, of_type, run

SOAP = {"mode": "soap"}
DOC = Path(__file__).parents[3] / "docs" / "plugins" / "bromcom.md"


def _pupil_memberships(result: object) -> set[tuple[str, str]]:
    return {
        (m.group_mis_id, m.person_mis_id)
        for m in of_type(result, Dataset.GROUPS, Membership)  # type: ignore[arg-type]
        if m.role is Role.STUDENT
    }


# -- pupils' person ids -------------------------------------------------------------------
async def test_pupils_have_person_ids_distinct_from_student_ids(school: SourceSchool) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    await run(sim, datasets=[Dataset.STUDENTS], transport=recording)
    answer = await sim.source().transport.handle_async_request(  # type: ignore[union-attr]
        recording.sent[-1]
    )
    await answer.aread()
    rows = json.loads(answer.content)["data"]
    current = [r for r in rows if int(r["studentId"]) < 8_000_000]
    assert current and all(r["personId"] != r["studentId"] for r in current)
    assert {r["personId"] for r in current} >= {PERSON_ID_BASE}


@pytest.mark.parametrize("settings", [{}, SOAP], ids=["partner", "soap"])
async def test_associates_are_joined_on_the_pupils_person_id(
    school: SourceSchool, settings: dict[str, str]
) -> None:
    result = await run(make(school), settings=settings, datasets=[Dataset.GROUPS])
    assert result.outcomes[Dataset.GROUPS].status is OutcomeStatus.UNVERIFIED
    want = {(m.group_mis_id, m.person_mis_id) for m in school.memberships if m.role is Role.STUDENT}
    assert _pupil_memberships(result) == want


async def test_the_wrong_join_key_fails_loudly_naming_the_setting(school: SourceSchool) -> None:
    result = await run(
        make(school), settings={"student_join_key": "student_id"}, datasets=[Dataset.GROUPS]
    )
    outcome = result.outcomes[Dataset.GROUPS]
    assert outcome.status is OutcomeStatus.PARTIAL  # groups and staff memberships came
    message = outcome.message or ""
    assert "student_join_key=person_id" in message
    assert "CollectionAssociates" in message
    assert not _pupil_memberships(result)
    staff = {m for m in of_type(result, Dataset.GROUPS, Membership) if m.role is Role.STAFF}
    assert staff


async def test_a_school_that_names_pupils_by_student_id_can_say_so(school: SourceSchool) -> None:
    sim = make(school, person_ids=False)
    plain = await run(sim, settings={"student_join_key": "student_id"})
    assert plain.ok, plain.outcomes
    default = await run(make(school), datasets=[Dataset.GROUPS])
    assert _pupil_memberships(plain) == _pupil_memberships(default)


async def test_an_associate_naming_no_pupil_is_reported_not_dropped(school: SourceSchool) -> None:
    sim = make(school)
    group = next(g for g in school.groups if g.kind.value == "class")
    sim._inner.tables.rows["associates"].append(  # type: ignore[attr-defined]
        {"collection_id": group.mis_id, "person_id": 424242, "start": None, "end": None}
    )
    result = await run(sim, datasets=[Dataset.GROUPS])
    outcome = result.outcomes[Dataset.GROUPS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "1 CollectionAssociates row(s) in 1 class" in (outcome.message or "")
    assert group.mis_id in (outcome.message or "")
    # Everything else still came through.
    want = {(m.group_mis_id, m.person_mis_id) for m in school.memberships if m.role is Role.STUDENT}
    assert _pupil_memberships(result) == want


async def test_a_flat_view_without_the_person_id_names_the_field(school: SourceSchool) -> None:
    result = await run(
        make(school),
        settings={"wire_names": "students.person_id=pupilPersonRef"},
        datasets=[Dataset.GROUPS],
    )
    message = result.outcomes[Dataset.GROUPS].message or ""
    assert result.outcomes[Dataset.GROUPS].status in (OutcomeStatus.FAILED, OutcomeStatus.PARTIAL)
    assert "pupilPersonRef" in message and "student_join_key=student_id" in message


# -- padded text ----------------------------------------------------------------------------
async def test_the_simulator_pads_text_and_the_plugin_trims_it(school: SourceSchool) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    result = await run(sim, datasets=[Dataset.GROUPS, Dataset.STAFF], transport=recording)
    assert result.ok
    staff_request = next(r for r in recording.sent if r.url.path == "/v2/Staff")
    answer = await sim.source().transport.handle_async_request(  # type: ignore[union-attr]
        staff_request
    )
    await answer.aread()
    row = json.loads(answer.content)["data"][0]
    assert row["staffCode"].endswith(" ") and row["lastName"].endswith(" ")
    groups = {g.mis_id: g for g in of_type(result, Dataset.GROUPS, Group)}
    for source in school.groups:
        assert groups[source.mis_id].name == source.name
        assert groups[source.mis_id].subject == source.subject
    unpadded = await run(make(school, pad=False), datasets=[Dataset.GROUPS, Dataset.STAFF])
    for dataset in (Dataset.GROUPS, Dataset.STAFF):
        assert result.of(dataset) == unpadded.of(dataset)


# -- exam types -------------------------------------------------------------------------------
SPELLINGS = (
    "GCSE",
    "GCE A Level",
    "GCE AS Level",
    "A-Level",
    "AS",
    "GCSE (9-1)",
    "ALevel",
    "A Level",
    "AS Level",
    "GCE Advanced Level",
)


def _with_spellings(school: SourceSchool) -> SourceSchool:
    results = tuple(
        evolve(r, qualification=SPELLINGS[n % len(SPELLINGS)])
        for n, r in enumerate(school.exam_results)
    )
    return evolve(school, exam_results=results)


@pytest.mark.parametrize("settings", [{}, SOAP], ids=["partner", "soap"])
async def test_every_common_exam_spelling_comes_through(
    school: SourceSchool, settings: dict[str, str]
) -> None:
    spelled = _with_spellings(school)
    assert len(spelled.exam_results) >= len(SPELLINGS)
    with capture_logs() as logs:
        result = await run(make(spelled), settings=settings, datasets=[Dataset.EXAM_RESULTS])
    assert result.outcomes[Dataset.EXAM_RESULTS].status is OutcomeStatus.UNVERIFIED
    want = expected_result("bromcom", spelled, [Dataset.EXAM_RESULTS]).of(Dataset.EXAM_RESULTS)
    got = of_type(result, Dataset.EXAM_RESULTS, ExamResult)
    assert sorted(map(repr, got)) == sorted(map(repr, want))
    assert {r.qualification for r in got} == set(SPELLINGS)
    # The simulator's five target grades are not exam results: counted, by type name.
    (excluded,) = [e for e in logs if e["event"] == "bromcom.assessment_types_excluded"]
    assert excluded["types"] == {"Target Grade": 5}
    assert excluded["log_level"] == "warning"


async def test_a_narrower_exam_types_setting_reports_what_it_leaves_out(
    school: SourceSchool,
) -> None:
    spelled = _with_spellings(school)
    with capture_logs() as logs:
        result = await run(
            make(spelled), settings={"exam_types": "GCSE"}, datasets=[Dataset.EXAM_RESULTS]
        )
    got = of_type(result, Dataset.EXAM_RESULTS, ExamResult)
    assert {r.qualification for r in got} == {"GCSE", "GCSE (9-1)"}
    (excluded,) = [e for e in logs if e["event"] == "bromcom.assessment_types_excluded"]
    left_out = len(spelled.exam_results) - sum(
        1 for r in spelled.exam_results if r.qualification in ("GCSE", "GCSE (9-1)")
    )
    assert sum(excluded["types"].values()) == left_out + 5
    assert "GCE A Level" in excluded["types"] and "Target Grade" in excluded["types"]


@pytest.mark.parametrize("spelling", [*SPELLINGS, "gce a-level", "GCE AS", "A2", "AS-Level"])
def test_the_default_exam_types_match_every_spelling(spelling: str) -> None:
    assert ExamTypes(DEFAULT_EXAM_TYPES.split(",")).matches(spelling)


@pytest.mark.parametrize("other", ["Target Grade", "IGCSE", "Year 9 Assessment", "Levels", ""])
def test_the_default_exam_types_leave_other_assessments_out(other: str) -> None:
    assert not ExamTypes(DEFAULT_EXAM_TYPES.split(",")).matches(other)


# -- what public clients show -----------------------------------------------------------------
def test_names_public_clients_show_are_marked_verified() -> None:
    assert ENTITIES["subjects"].fields["name"] == ("subjectName", "SubjectName", "V")
    assert ENTITIES["students"].fields["fsm"][2] == "U"
    markdown = wire_names_markdown()
    assert "`everFsm6Flag`" in markdown and "`inCareFlag`" in markdown


def test_the_docs_table_is_what_wire_names_prints() -> None:
    printed = CliRunner().invoke(build_cli(), ["bromcom", "wire-names", "--markdown"]).output
    doc = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- wire-names:start -->\n(.*?)<!-- wire-names:end -->", doc, re.DOTALL)
    assert found, "docs/plugins/bromcom.md has no wire-names table"
    assert found.group(1).strip() == printed.strip()


# -- a wrong school id ------------------------------------------------------------------------
async def test_a_wrong_school_id_is_named_as_the_likely_cause(school: SourceSchool) -> None:
    sim = make(school)
    with pytest.raises(PermissionDeniedError) as raised:
        await run(sim, settings={"school_id": str(sim.school_id + 1)})
    message = str(raised.value)
    assert "school id may be wrong" in message and str(sim.school_id + 1) in message
    assert "tick" not in message
    assert APPLICATION_SECRET not in message and APPLICATION_ID in sim.source().settings.values()


async def test_one_unticked_entity_still_says_which_to_tick(school: SourceSchool) -> None:
    result = await run(make(school, deny=[Dataset.STUDENTS]), datasets=[Dataset.STUDENTS])
    message = result.outcomes[Dataset.STUDENTS].message or ""
    assert "tick it" in message and "school id" not in message
