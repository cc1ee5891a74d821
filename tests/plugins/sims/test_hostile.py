"""Hostile XML is refused quickly, clearly and in bounded memory, through the plugin's
real reading code: exported files (``from_xml``) and a reporter process's output."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from pathlib import Path

import pytest

from misbridge.errors import SourceFormatError
from misbridge.hooktypes import ExtractContext, Secret
from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import OutcomeStatus
from misbridge_sims.reports import report_by_key
from misbridge_sims.session import SimsSession
from misbridge_sims.settings import ReporterConfig


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE SuperStarReport [{"".join(entities)}]>'
        "<SuperStarReport><Record><Adno>&lol9;</Adno></Record></SuperStarReport>"
    ).encode()


BILLION_LAUGHS = _billion_laughs()
QUADRATIC = (
    b'<!DOCTYPE SuperStarReport [<!ENTITY a "'
    + b"x" * 60_000
    + b'">]><SuperStarReport><Record><Adno>'
    + b"&a;" * 60_000
    + b"</Adno></Record></SuperStarReport>"
)
EXTERNAL_ENTITY = (
    b'<!DOCTYPE SuperStarReport [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<SuperStarReport><Record><Adno>&e;</Adno></Record></SuperStarReport>"
)
EXTERNAL_DTD = (
    b'<!DOCTYPE SuperStarReport SYSTEM "http://127.0.0.1:9/evil.dtd">'
    b"<SuperStarReport><Record><Adno>1</Adno></Record></SuperStarReport>"
)
PARAMETER_ENTITY = (
    b'<!DOCTYPE SuperStarReport [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'
    b"<SuperStarReport/>"
)
DEEP = (
    b"<SuperStarReport><Record>"
    + b"<a>" * 100_000
    + b"</a>" * 100_000
    + b"</Record></SuperStarReport>"
)

HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, "DTD"),
    "quadratic blow-up": (QUADRATIC, "DTD"),
    "external entity": (EXTERNAL_ENTITY, "DTD"),
    "external DTD": (EXTERNAL_DTD, "DTD"),
    "parameter entity": (PARAMETER_ENTITY, "DTD"),
    "very deep nesting": (DEEP, "nests deeper than"),
}


def _context(**settings: str) -> ExtractContext:
    return ExtractContext(mis="sims", settings=settings, credentials={})


async def _read_students(session: SimsSession) -> None:
    async for _ in session.entities(report_by_key("students")):
        pass


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_export_is_refused_fast_in_bounded_memory(tmp_path: Path, case: str) -> None:
    payload, words = HOSTILE[case]
    (tmp_path / "misbridge Students.xml").write_bytes(payload)
    session = SimsSession(ReporterConfig.from_context(_context(from_xml=str(tmp_path))))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SourceFormatError) as raised:
            asyncio.run(_read_students(session))
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < 1.0, f"{case}: refused after {took:.2f} s"
    assert peak < 20 * 1024 * 1024, f"{case}: peak {peak / 1e6:.1f} MB"
    message = str(raised.value)
    assert "misbridge Students" in message and words in message
    assert "root:" not in message  # nothing from /etc/passwd was read


@pytest.mark.parametrize("case", ["billion laughs", "external entity", "very deep nesting"])
def test_hostile_reporter_output_is_refused(tmp_path: Path, case: str) -> None:
    payload, words = HOSTILE[case]
    (tmp_path / "payload.xml").write_bytes(payload)
    reporter = tmp_path / "CommandReporter"
    reporter.write_text(f"#!/bin/sh\ncat '{tmp_path / 'payload.xml'}'\n")
    reporter.chmod(0o700)
    for output in ("stdout", "file"):
        started = time.perf_counter()
        result = asyncio.run(
            extract_async(
                "sims",
                settings={"reporter": str(reporter), "output": output},
                credentials={},
                datasets=[Dataset.STUDENTS],
            )
        )
        outcome = result.outcomes[Dataset.STUDENTS]
        assert outcome.status is OutcomeStatus.FAILED
        assert outcome.message is not None and "misbridge Students" in outcome.message
        if output == "stdout":
            assert words in outcome.message
        else:  # the script ignores /OUTPUT: the stdout text is still read as the answer
            assert "wrote no output file" in outcome.message or words in outcome.message
        # Two process runs (login, then the report); the < 1 s parse bound is above.
        assert time.perf_counter() - started < 10.0


def test_no_user_means_trusted(tmp_path: Path) -> None:
    config = ReporterConfig.from_context(
        ExtractContext(
            mis="sims", settings={"from_xml": str(tmp_path)}, credentials={"x": Secret("y")}
        )
    )
    assert config.trusted and config.password is None
