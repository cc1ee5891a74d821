"""CommandReporter processes always end: on success, error, timeout and cancellation,
even when they ignore the polite signal; broken output is a clear error."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import attrs
import psutil
import pytest

from misbridge.errors import SourceUnavailableError
from misbridge.hooktypes import ExtractContext
from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import OutcomeStatus
from misbridge.simulation import Fault
from misbridge_sims.process import ProcessRunner
from misbridge_sims.settings import ReporterConfig

from .conftest import run


def _reporters() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "misbridge_sims.standin" in " ".join(
                child.cmdline()
            ):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_slow_report_times_out_and_is_stopped(make_sim) -> None:
    sim = make_sim(faults=[Fault("delay", match="Students", seconds=60)])
    started = time.monotonic()
    result = asyncio.run(run(sim, datasets=(Dataset.STUDENTS, Dataset.STAFF), report_timeout="2"))
    assert time.monotonic() - started < 20
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "did not finish report 'misbridge Students' within 2 s and was stopped" in (
        outcome.message or ""
    )
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.COMPLETE
    assert _reporters() == []


def test_cancelled_extract_ends_its_processes(make_sim) -> None:
    sim = make_sim(faults=[Fault("delay", match="misbridge", skip=1, times=20, seconds=60)])

    async def cancel_midway() -> None:
        task = asyncio.create_task(run(sim, datasets=(Dataset.STUDENTS, Dataset.STAFF)))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(_reporters()) >= 2:
                break
        assert _reporters(), "the reports never started"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert _reporters() == []


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("truncate", "not well-formed"),
        ("html", "DTD"),
        ("status", "An error occurred running report 'misbridge Staff'"),
    ],
)
def test_broken_output_is_a_clear_dataset_error(make_sim, kind: str, words: str) -> None:
    sim = make_sim(faults=[Fault(kind, match="Staff")])  # type: ignore[arg-type]
    result = asyncio.run(run(sim, datasets=(Dataset.STAFF, Dataset.YEARS)))
    staff = result.outcomes[Dataset.STAFF]
    assert staff.status in (OutcomeStatus.FAILED, OutcomeStatus.PARTIAL)
    assert "misbridge Staff" in (staff.message or "") and words in (staff.message or "")
    assert result.outcomes[Dataset.YEARS].status is OutcomeStatus.COMPLETE


def _stubborn(tmp_path: Path) -> Path:
    script = tmp_path / "CommandReporter"
    # Ignores the polite signal (children inherit the ignored signal), never exits.
    script.write_text("#!/bin/sh\ntrap '' TERM\nsleep 60 &\nwait\nsleep 60\n")
    script.chmod(0o700)
    return script


def test_a_process_ignoring_terminate_is_killed(tmp_path: Path) -> None:
    context = ExtractContext(
        mis="sims", settings={"reporter": str(_stubborn(tmp_path)), "report_timeout": "1"}
    )
    config = attrs.evolve(ReporterConfig.from_context(context), grace=0.5)
    runner = ProcessRunner(config)

    async def go() -> None:
        with pytest.raises(SourceUnavailableError, match="was stopped"):
            async for _ in runner.run("misbridge Staff", "staff"):
                pass
        assert runner.live == 0
        await runner.aclose()

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 10
    leftovers = [
        p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE
    ]
    assert leftovers == []


def test_argv_is_fixed_and_prefers_trusted(tmp_path: Path) -> None:
    reporter = _stubborn(tmp_path)
    trusted = ReporterConfig.from_context(
        ExtractContext(
            mis="sims",
            settings={
                "reporter": str(reporter),
                "server": r"SIMS\SQL",
                "database": "SIMS",
                "effective_date": "2024-03-18",
            },
        )
    )
    argv = ProcessRunner(trusted).argv("misbridge Students", tmp_path / "out.xml")
    assert argv[:3] == [str(reporter), "/TRUSTED", "/REPORT:misbridge Students"]
    assert f"/OUTPUT:{tmp_path / 'out.xml'}" in argv and "/QUIET" in argv
    assert r"/SERVERNAME:SIMS\SQL" in argv and "/DATABASENAME:SIMS" in argv
    assert argv[-1].startswith("/PARAMS:<ReportParameters><Parameter id='EffectiveDate'")
    assert "<Date>18/03/2024 00:00:00</Date>" in argv[-1]
    assert not any(a.startswith(("/USER", "/PASSWORD")) for a in argv)


def test_reporter_that_cannot_start_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "CommandReporter"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o700)
    result = asyncio.run(
        extract_async(
            "sims",
            settings={"reporter": str(broken)},
            credentials={},
            datasets=[Dataset.STAFF],
        )
    )
    message = result.outcomes[Dataset.STAFF].message or ""
    assert "could not start CommandReporter for report 'misbridge Staff'" in message
