"""The extract pipeline: concurrency, partial success, errors as data, no leaks."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from misbridge.errors import AuthenticationError, Severity
from misbridge.http import HttpPolicy
from misbridge.logs import configure_logging
from misbridge.model import Dataset, Student
from misbridge.pipeline import extract_async
from misbridge.plugins import get_plugin_manager
from misbridge.result import OutcomeStatus
from misbridge.simulation import Fault
from misbridge.testing.school import MESSY_CASES, sample_school

from .toy_mis import TOKEN, ToyPlugin, ToySimulator


def toy_plugins(**kwargs: object) -> object:
    return get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin(**kwargs))])  # type: ignore[arg-type]


async def run(simulator: ToySimulator, **kwargs: object):  # type: ignore[no-untyped-def]
    source = simulator.source()
    return await extract_async(
        "toy",
        settings=source.settings,
        credentials=kwargs.pop("credentials", source.credentials),  # type: ignore[arg-type]
        transport=source.transport,
        pm=kwargs.pop("pm", toy_plugins()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


async def test_messy_records_become_errors_and_the_rest_is_extracted() -> None:
    school = sample_school()
    result = await run(ToySimulator(school))
    assert result.ok
    students = {s.mis_id: s for s in result.of(Dataset.STUDENTS) if isinstance(s, Student)}
    rejected = {e.mis_id for e in result.errors if e.severity is Severity.ERROR}
    assert {"90003", "90004"} <= rejected  # no forename, no surname
    assert "90003" not in students and "90004" not in students
    assert len(students) == len(school.students) - len(
        rejected & {s.mis_id for s in school.students}
    )
    assert students["90007"].username is not None  # guest: falls back to email
    assert students["90008"].gender is None  # a gender outside the list is left out
    assert result.outcomes[Dataset.STUDENTS].rejected == len(rejected & set(MESSY_CASES))


async def test_a_failing_dataset_fails_alone_and_partial_is_said() -> None:
    school = sample_school()
    faults = [
        Fault("status", match="/data/staff", status=503, times=99),
        Fault("status", match="/data/groups?page=3", status=500, times=99),
    ]
    result = await run(ToySimulator(school, faults=faults))
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "503" in (result.outcomes[Dataset.STAFF].message or "")
    groups = result.outcomes[Dataset.GROUPS]
    assert groups.status is OutcomeStatus.PARTIAL and groups.records == 150
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.COMPLETE
    assert not result.ok


async def test_wrong_token_fails_before_reading_and_never_shows_it() -> None:
    with pytest.raises(AuthenticationError) as raised:
        await run(ToySimulator(sample_school(students=20)), credentials={"token": "wrong-tok-99"})
    assert "wrong-tok-99" not in str(raised.value)


async def test_sequential_and_concurrent_runs_agree() -> None:
    school = sample_school(students=40, staff=5)
    together = await run(ToySimulator(school))
    apart = await run(ToySimulator(school), concurrent_datasets=False)
    for dataset in together.outcomes:
        assert together.of(dataset) == apart.of(dataset)


async def test_no_secret_or_pupil_name_reaches_the_logs() -> None:
    school = sample_school(students=30, staff=4)
    surname = next(s.legal_surname for s in school.students if s.legal_surname)
    buffer = io.StringIO()
    configure_logging(json_output=True, level=logging.DEBUG, stream=buffer)
    try:
        faults = [Fault.rate_limit(retry_after="0", times=2), Fault("status", status=500)]
        result = await run(
            ToySimulator(school, faults=faults),
            pm=toy_plugins(policy=HttpPolicy(attempts=5, wait_initial=0.0)),
        )
    finally:
        structlog.reset_defaults()
    output = buffer.getvalue()
    assert "http.retry" in output  # the retries were logged...
    assert TOKEN not in output  # ...without the token
    assert surname not in output
    assert surname not in json.dumps([e.as_dict() for e in result.errors])
    assert result.ok


async def test_an_incremental_extract_never_disables_anyone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from attrs import evolve

    from misbridge.store import open_store

    school = sample_school(students=40, staff=5)
    full = await run(ToySimulator(school))
    # "Changes since yesterday": only two pupils changed, so only two come back.
    changed = evolve(school, students=school.students[:2])
    since = datetime(2026, 11, 22, tzinfo=UTC)
    delta = await run(ToySimulator(changed), since=since)
    assert all(o.delta and not o.trusted for o in delta.outcomes.values())
    assert delta.summary()["datasets"]["students"]["delta"] is True
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.sync(full)
        report = store.sync(delta)
    finally:
        store.close()
    assert report.applied
    assert sum(c.get("disabled", 0) for c in report.counts.values()) == 0
