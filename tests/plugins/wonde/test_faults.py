"""Resilience: every injected fault, at the first, a middle and the last page.

The extract must either complete with every record, or fail with a clear error; it must
never "succeed" with records missing. Retries are counted on the simulator and bounded
by ``http_attempts`` (3 here).
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from misbridge.model import Dataset
from misbridge.plugins import Plugins
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.simulation import Fault
from misbridge.source import SourceSchool
from misbridge_wonde.simulator import simulate
from tests.plugins.wonde.helpers import run_extract

PAGES = 4  # 40 students, 10 a page
MODES = {
    # mode: (settings, requests an undisturbed extract makes)
    "parallel": ({"paging": "parallel", "per_page": "10"}, 1 + 1 + PAGES),  # school, counts
    "follow-next": ({"paging": "follow-next", "per_page": "10"}, 1 + 1 + PAGES),  # and counts
}
POSITIONS = {"first": 1, "middle": 2, "last": PAGES}


def http_date(delta: timedelta) -> str:
    return email.utils.format_datetime(datetime.now(UTC) + delta, usegmt=True)


@dataclass(frozen=True)
class Case:
    fault: Fault
    extra_requests: int  # beyond an undisturbed extract, when the fault is recovered from
    recovers: bool = True
    says: str = ""


def kinds() -> dict[str, Case]:
    return {
        "429 retry-after seconds": Case(Fault.rate_limit(retry_after="0"), 1),
        "429 retry-after http-date": Case(
            Fault.rate_limit(retry_after=http_date(timedelta(seconds=-5))), 1
        ),
        "429 longer than allowed": Case(
            Fault.rate_limit(retry_after=http_date(timedelta(minutes=30))),
            0,
            recovers=False,
            says="asked us to wait",
        ),
        "500": Case(Fault("status", status=500, body=b'{"error":"Server Error"}'), 1),
        "503 twice": Case(Fault("status", status=503, times=2), 2),
        "503 for good": Case(
            Fault("status", status=503, times=100), 2, recovers=False, says="still failing"
        ),
        "delay beyond the deadline": Case(Fault("delay", seconds=3.0), 1),
        "truncated body": Case(Fault("truncate"), 1),
        "html maintenance page": Case(Fault("html"), 1),
        "html for good": Case(Fault("html", times=100), 2, recovers=False, says="instead of JSON"),
        "body without data": Case(
            Fault("status", status=200, body=b'{"error":"Something went wrong"}'),
            0,
            recovers=False,
            says="without a 'data' list",
        ),
    }


def placed(fault: Fault, mode: str, page: int) -> Fault:
    """The fault aimed at one page of the students list."""
    from attrs import evolve

    if mode == "parallel":
        return evolve(fault, match=f"per_page=10&page={page}", skip=0)
    # One page after another: the n-th request for the list is page n.
    return evolve(fault, match="/students", skip=page - 1)


@pytest.fixture(scope="module")
def reference(small_school: SourceSchool, plugins: Plugins) -> set[str]:
    import asyncio

    result = asyncio.run(run_extract(simulate(small_school), plugins))
    assert result.ok
    return {r.mis_id for r in result.of(Dataset.STUDENTS)}  # type: ignore[union-attr]


def assert_complete_or_clear(result: ExtractResult, reference: set[str]) -> OutcomeStatus:
    outcome = result.outcomes[Dataset.STUDENTS]
    if outcome.status is OutcomeStatus.COMPLETE:
        got = [r.mis_id for r in result.of(Dataset.STUDENTS)]  # type: ignore[union-attr]
        assert sorted(got) == sorted(reference), "a complete extract lost or doubled records"
    else:
        assert not result.ok
        assert outcome.status in (OutcomeStatus.FAILED, OutcomeStatus.PARTIAL)
        assert outcome.message and outcome.message.startswith("wonde: ")
    return outcome.status


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("position", list(POSITIONS))
@pytest.mark.parametrize("kind", list(kinds()))
async def test_fault_at_each_page(
    kind: str,
    position: str,
    mode: str,
    small_school: SourceSchool,
    plugins: Plugins,
    reference: set[str],
) -> None:
    case = kinds()[kind]
    settings, undisturbed = MODES[mode]
    page = POSITIONS[position]
    sim = simulate(small_school, faults=[placed(case.fault, mode, page)])
    result = await run_extract(sim, plugins, settings=settings)

    status = assert_complete_or_clear(result, reference)
    assert sim.app.faults_fired >= 1, "the fault never fired: the test aims at nothing"
    if case.recovers:
        assert status is OutcomeStatus.COMPLETE, result.outcomes[Dataset.STUDENTS].message
        assert sim.requests == undisturbed + case.extra_requests
    else:
        assert status is not OutcomeStatus.COMPLETE
        assert case.says in (result.outcomes[Dataset.STUDENTS].message or "")
        # Bounded: never more than the attempts allowed, whatever the fault.
        assert sim.requests <= undisturbed + case.extra_requests
        if mode == "follow-next":
            # One page after another stops at the failing page (after the school and
            # the counts).
            assert sim.requests == 1 + 1 + page + case.extra_requests


async def test_retry_after_seconds_is_honoured(
    small_school: SourceSchool, plugins: Plugins, reference: set[str]
) -> None:
    sim = simulate(small_school, faults=[Fault.rate_limit(match="page=2", retry_after="1")])
    started = time.monotonic()
    result = await run_extract(sim, plugins, settings={"per_page": "10"})
    assert time.monotonic() - started >= 1.0
    assert_complete_or_clear(result, reference)
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE


async def test_a_failing_dataset_leaves_the_others_complete(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, faults=[Fault("status", match="/employees", status=503, times=99)])
    result = await run_extract(
        sim, plugins, datasets=(Dataset.STAFF, Dataset.STUDENTS, Dataset.YEARS)
    )
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.COMPLETE
    assert "503" in (result.outcomes[Dataset.STAFF].message or "")


async def test_failure_on_the_school_record_fails_the_run_clearly(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    from misbridge.errors import SourceUnavailableError

    sim = simulate(
        small_school, faults=[Fault("status", match="/schools/SCH4321", status=500, times=99)]
    )
    with pytest.raises(SourceUnavailableError, match="still failing"):
        await run_extract(sim, plugins)
    assert sim.requests == 3
