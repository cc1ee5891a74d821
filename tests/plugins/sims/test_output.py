"""Where CommandReporter's XML comes from: its standard output by default (as ESS
documents it: it "posts the data to STDOUT"), a private /OUTPUT file as a setting."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import psutil
import pytest

from misbridge.errors import AuthenticationError
from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import OutcomeStatus

from .conftest import run


def test_stdout_is_the_default_and_file_mode_a_setting(make_sim) -> None:
    sim = make_sim()
    streamed = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,)))
    assert streamed.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert all("OUTPUT" not in switches for switches in sim.switches())
    assert all("QUIET" in switches for switches in sim.switches())
    before = sim.requests
    filed = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,), output="file"))
    assert all("OUTPUT" in switches for switches in sim.switches()[before:])
    assert filed.of(Dataset.STUDENTS) == streamed.of(Dataset.STUDENTS)


def _endless_reporter(tmp_path: Path, body: str) -> Path:
    """A reporter that writes an endless report to stdout, counting what it wrote."""
    script = tmp_path / "endless.py"
    script.write_text(
        "import sys\n"
        f"count = open({str(tmp_path / 'written')!r}, 'w')\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID>')\n"
        "n = 0\n"
        "while True:\n"
        f"    chunk = {body}\n"
        "    out.write(chunk); out.flush()\n"
        "    n += len(chunk); count.seek(0); count.write(str(n)); count.flush()\n"
    )
    reporter = tmp_path / "CommandReporter"
    reporter.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    reporter.chmod(0o700)
    return reporter


def _live_children() -> list[psutil.Process]:
    return [
        p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE
    ]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # 300 MB of distinct column tags grew 3.6 GB before the cap.
        (
            "b''.join(b'<C%d>x</C%d>' % (n + i, n + i) for i in range(4000))",
            "distinct element names",
        ),
        # One column without end grew twice its size.
        ("b'<Adno>' + b'9' * 65536 if n == 0 else b'9' * 65536", "longer than"),
    ],
)
def test_endless_stdout_is_refused_early_and_its_process_ended(
    tmp_path: Path, body: str, words: str
) -> None:
    reporter = _endless_reporter(tmp_path, body)
    result = asyncio.run(
        extract_async(
            "sims",
            settings={"reporter": str(reporter), "trusted": "true"},
            datasets=[Dataset.STUDENTS],
        )
    )
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "misbridge Students" in (outcome.message or "") and words in (outcome.message or "")
    # The run stopped within a few chunks of the cap (and the pipe's buffer), not at
    # the 512 MiB report cap.
    assert int((tmp_path / "written").read_text() or 0) < 4 * 1024 * 1024
    assert _live_children() == []


def test_stderr_is_kept_for_the_message_without_the_password(tmp_path: Path) -> None:
    reporter = tmp_path / "CommandReporter"
    # Echoes its whole command line on stderr, as a careless program might.
    reporter.write_text('#!/bin/sh\necho "Login failed: $*" >&2\nexit 3\n')
    reporter.chmod(0o700)
    password = "s3cret-Pa55word"
    with pytest.raises(AuthenticationError) as raised:
        asyncio.run(
            extract_async(
                "sims",
                settings={"reporter": str(reporter)},
                credentials={"user": "misbridge-sync", "password": password},
                datasets=[Dataset.STUDENTS],
            )
        )
    message = str(raised.value)
    assert "Login failed" in message and "/REPORT:misbridge Academic Years" in message
    assert password not in message and "misbridge-sync" not in message
    assert "***" in message


def test_a_refused_stream_ends_its_process_without_waiting_out_the_grace(
    tmp_path: Path,
) -> None:
    import time

    import attrs

    from misbridge.errors import SourceFormatError
    from misbridge.hooktypes import ExtractContext
    from misbridge_sims.reports import report_by_key
    from misbridge_sims.session import SimsSession
    from misbridge_sims.settings import ReporterConfig

    reporter = _endless_reporter(tmp_path, "b'<Adno>' + b'9' * 65536 if n == 0 else b'9' * 65536")
    context = ExtractContext(mis="sims", settings={"reporter": str(reporter), "trusted": "true"})
    # A grace far longer than the test: a process ended politely must not wait it out
    # (a pipe left unread kept its transport open, so waiting for the exit hung).
    config = attrs.evolve(ReporterConfig.from_context(context), grace=60.0)

    async def go() -> None:
        session = SimsSession(config)
        try:
            with pytest.raises(SourceFormatError, match="longer than"):
                async for _ in session.entities(report_by_key("students")):
                    pass
        finally:
            await session.aclose()
        assert session.runner.live == 0

    started = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - started < 30
    assert _live_children() == []
