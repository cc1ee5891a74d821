"""The SIMS plugin through its real subprocess code against the CommandReporter stand-in:
mapping, login modes, the stand-in's refusals, output modes, exported files."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import structlog

from misbridge.errors import AuthenticationError, ConfigurationError
from misbridge.hooktypes import ExtractContext, Secret
from misbridge.logs import configure_logging
from misbridge.model import Dataset, GroupKind, Role
from misbridge.result import OutcomeStatus
from misbridge.source import SourceMembership, SourceStudent
from misbridge_sims import plugin
from misbridge_sims.session import SimsSession

from .conftest import ALL, run


def _context(sim: object, **settings: str) -> ExtractContext:
    source = sim.source()  # type: ignore[attr-defined]
    return ExtractContext(
        mis="sims",
        settings={**source.settings, **settings},
        credentials={k: Secret(v) for k, v in source.credentials.items()},
    )


async def _students(context: ExtractContext) -> list[SourceStudent]:
    session = await plugin.authenticate(context)
    try:
        stream = plugin.extract_students(session, context)
        assert stream is not None
        return [s async for s in stream]  # type: ignore[misc]
    finally:
        await session.aclose()


def test_students_keep_sims_values_raw(make_sim, school) -> None:
    students = asyncio.run(_students(_context(make_sim())))
    by_id = {s.mis_id: s for s in students}
    assert list(by_id) == [s.mis_id for s in school.students]
    first = by_id[school.students[0].mis_id]
    assert first.year_group == f"Year {school.students[0].year_group:>2}"  # "Year  7"
    assert first.admission_number == school.students[0].admission_number  # zero-padded
    assert first.fsm in ("True", "False")
    # The cross product of two home addresses x five phones x three emails folds back
    # into each list once, in SIMS's order, with the Primary/Main flags.
    messy = by_id["90002"]
    assert [t.number for t in messy.telephones] == [
        t.number for t in next(s for s in school.students if s.mis_id == "90002").telephones
    ]
    assert [(e.address, e.primary, e.main) for e in messy.emails] == [
        (e.address, e.primary, e.main)
        for e in next(s for s in school.students if s.mis_id == "90002").emails
    ]
    assert len(by_id["90001"].addresses) == 3
    assert by_id["90005"].emails == ()
    assert len(by_id["90011"].sen) == 2


async def _groups(context: ExtractContext) -> list[object]:
    session = await plugin.authenticate(context)
    try:
        stream = plugin.extract_groups(session, context)
        assert stream is not None
        return [g async for g in stream]
    finally:
        await session.aclose()


def test_group_reports_fold_back_into_groups_and_memberships(make_sim, school) -> None:
    records = asyncio.run(_groups(_context(make_sim())))
    memberships = [r for r in records if isinstance(r, SourceMembership)]
    want = {(m.group_kind, m.group_mis_id, m.person_mis_id, m.role) for m in school.memberships}
    got = {(m.group_kind, m.group_mis_id, m.person_mis_id, m.role) for m in memberships}
    assert got == want
    assert len(memberships) == len(school.memberships)
    moved = [
        m
        for m in memberships
        if m.person_mis_id == "90010" and m.group_kind is GroupKind.REGISTRATION
    ]
    # A pupil who moved form mid-year has two dated memberships (when the year has two forms).
    assert [(m.group_mis_id, m.end) for m in moved] == [
        (m.group_mis_id, f"{m.end:%Y-%m-%d}T00:00:00")
        for m in school.memberships
        if m.person_mis_id == "90010" and m.group_kind is GroupKind.REGISTRATION
    ]
    assert any(m.role is Role.STAFF for m in memberships)


def test_trusted_login_is_used_without_a_user(make_sim) -> None:
    sim = make_sim()
    context = ExtractContext(mis="sims", settings=dict(sim.trusted_source().settings))
    assert len(asyncio.run(_students(context))) == 40
    sim.configure(trusted=False)
    with pytest.raises(AuthenticationError, match="Windows user"):
        asyncio.run(_students(context))


def test_wrong_password_is_refused_and_never_shown_or_logged(make_sim) -> None:
    sim = make_sim()
    wrong = dict(sim.wrong_credentials())
    stream = io.StringIO()
    configure_logging(json_output=True, stream=stream)
    try:
        with pytest.raises(AuthenticationError) as raised:
            asyncio.run(run(sim, credentials=wrong))
        # The right password must not be logged either (argv is never logged).
        asyncio.run(run(sim, datasets=(Dataset.YEARS,)))
    finally:
        structlog.reset_defaults()
    assert "misbridge Academic Years" in str(raised.value)
    for secret in (wrong["password"], sim.password, wrong["user"]):
        assert secret not in str(raised.value)
    logged = stream.getvalue()
    assert "sims.report.start" in logged
    assert sim.password not in logged and wrong["password"] not in logged


def test_settings_are_checked(make_sim, tmp_path: Path) -> None:
    sim = make_sim()
    with pytest.raises(ConfigurationError, match="CommandReporter was not found"):
        asyncio.run(run(sim, reporter=str(tmp_path / "missing.exe")))
    with pytest.raises(ConfigurationError, match="effective_date"):
        asyncio.run(run(sim, effective_date="18/03/2024"))
    with pytest.raises(ConfigurationError, match="password"):
        asyncio.run(run(sim, credentials={"user": "misbridge-sync"}))


def test_unknown_report_fails_its_dataset_alone(make_sim) -> None:
    sim = make_sim(
        reports=["misbridge Academic Years", "misbridge Year Groups", "misbridge Students"]
    )
    result = asyncio.run(run(sim, datasets=(Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS)))
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    staff = result.outcomes[Dataset.STAFF]
    assert staff.status is OutcomeStatus.FAILED
    assert "no report 'misbridge Staff'" in (staff.message or "")
    assert "CommandReportImporter" in (staff.message or "")


def test_report_error_is_named(make_sim) -> None:
    sim = make_sim(fail_reports={"misbridge Staff": "Timeout expired running the report."})
    result = asyncio.run(run(sim, datasets=(Dataset.STAFF,)))
    message = result.outcomes[Dataset.STAFF].message or ""
    assert "CommandReporter failed to run report 'misbridge Staff'" in message
    assert "Timeout expired" in message and "exit code 1" in message


def test_error_answer_with_exit_code_zero_is_still_an_error(make_sim) -> None:
    sim = make_sim(error_exit_code=0, groups=["Third Party Reporter", "School Administrator"])
    result = asyncio.run(run(sim, datasets=(Dataset.STAFF, Dataset.STUDENTS)))
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "Personnel Officer" in (result.outcomes[Dataset.STAFF].message or "")
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE


def test_ids_suppressed_without_third_party_reporter(make_sim) -> None:
    sim = make_sim(groups=["School Administrator", "Personnel Officer"])
    result = asyncio.run(run(sim, datasets=(Dataset.STAFF, Dataset.STUDENTS)))
    for dataset in (Dataset.STAFF, Dataset.STUDENTS):
        outcome = result.outcomes[dataset]
        assert outcome.status is OutcomeStatus.FAILED
        assert "suppressed the ID columns" in (outcome.message or "")
        assert "missing: Third Party Reporter" in (outcome.message or "")


def test_withheld_permission_area_is_not_silently_blank(make_sim) -> None:
    lines = [
        "Students -> Basic Details -> View (All)",
        "Students -> Record -> View",
        "Students -> Registration -> View (All)",
        "Students -> Welfare -> View (All)",
        "Students -> Additional Information -> View (All)",
        "All People -> Address Details -> View (All)",
    ]  # no Ethnic/Cultural
    sim = make_sim(lines=lines, denied_style="blank")
    result = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,)))
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.PARTIAL  # read, but never trusted
    assert "Students -> Ethnic/Cultural -> View (All)" in (outcome.message or "")


def test_output_modes_params_and_date_formats_give_the_same_extract(make_sim) -> None:
    base = asyncio.run(run(make_sim()))
    assert base.ok
    filed = asyncio.run(run(make_sim(), output="file", effective_date="2026-10-01"))
    for dataset in ALL:
        assert filed.of(dataset) == base.of(dataset)
    # How SIMS writes dates in XML is not documented: each form reads the same.
    for date_format, dataset in (("uk", Dataset.STUDENTS), ("uk-datetime", Dataset.GROUPS)):
        other = asyncio.run(run(make_sim(date_format=date_format), datasets=(dataset,)))
        assert other.of(dataset) == base.of(dataset)


def test_exported_reports_are_read_from_a_folder(make_sim, tmp_path: Path) -> None:
    import subprocess

    from misbridge_sims.reports import REPORTS

    sim = make_sim()
    for report in REPORTS:
        name = report.name()
        subprocess.run(
            [str(sim.reporter), "/TRUSTED", f"/REPORT:{name}", f"/OUTPUT:{tmp_path / name}.xml"],
            check=True,
        )
    base = asyncio.run(run(sim))
    runs = sim.requests
    from_files = asyncio.run(run(sim, from_xml=str(tmp_path), reporter=""))
    assert sim.requests == runs  # nothing was run
    for dataset in ALL:
        assert from_files.of(dataset) == base.of(dataset)
    (tmp_path / "misbridge Staff.xml").unlink()
    missing = asyncio.run(run(sim, from_xml=str(tmp_path), datasets=(Dataset.STAFF,)))
    assert "no exported report 'misbridge Staff'" in (missing.outcomes[Dataset.STAFF].message or "")


def test_session_is_a_mis_session(make_sim) -> None:
    session = asyncio.run(plugin.authenticate(_context(make_sim())))
    assert isinstance(session, SimsSession)
    asyncio.run(session.aclose())
