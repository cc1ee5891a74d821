"""The SuperStarReport reader: name decoding, streaming in any chunking, errors."""

from __future__ import annotations

import asyncio
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import SourceFormatError
from misbridge.hooktypes import ExtractContext
from misbridge.testing.school import sample_school
from misbridge_sims.render import encode_name, write_report
from misbridge_sims.session import SimsSession
from misbridge_sims.settings import ReporterConfig
from misbridge_sims.xmlstream import ERROR_ROOT, ReportParser, decode_name

captions = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
)


@given(captions)
def test_encoded_names_decode_back(caption: str) -> None:
    assert decode_name(encode_name(caption)) == caption


def test_dotnet_examples_decode() -> None:
    assert decode_name("Legal_x0020_Surname") == "Legal Surname"
    assert decode_name("Year_x0020_of_x0020_entry") == "Year of entry"
    assert decode_name("Class_x002F_Group_x0020__x0028_main_x0029_") == "Class/Group (main)"
    assert decode_name("My_X0020Name") == "My Name"  # the spelling in ESS's own guide
    assert decode_name("Plain") == "Plain"


def _parse(data: bytes, sizes: list[int] | None = None) -> list[dict[str, str]]:
    parser = ReportParser("test report")
    records: list[dict[str, str]] = []
    position = 0
    for size in sizes or []:
        records += parser.feed(data[position : position + size])
        position += size
    records += parser.feed(data[position:])
    return records + parser.close()


rows = st.lists(
    st.dictionaries(
        st.sampled_from(["Person ID", "Legal Surname", "Year", "Adno", "Note (a/b)"]),
        st.one_of(
            st.none(), st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")))
        ),
    ),
    max_size=8,
)


@given(rows, st.lists(st.integers(1, 64), max_size=30))
def test_records_survive_any_chunking(table: list[dict[str, str | None]], sizes: list[int]) -> None:
    out = io.BytesIO()
    write_report(out, table)
    expected = [
        {k: v.replace("\r", "\n") for k, v in row.items() if v} for row in table
    ]  # XML turns a lone CR into LF
    assert _parse(out.getvalue(), sizes) == expected


def test_one_record_is_still_a_list_and_missing_elements_are_absent() -> None:
    data = (
        b"<SuperStarReport><Record><Adno>001234</Adno><Year>Year  7</Year></Record>"
        b"</SuperStarReport>"
    )
    assert _parse(data) == [{"Adno": "001234", "Year": "Year  7"}]


def test_empty_report_has_no_records() -> None:
    assert _parse(b'<?xml version="1.0"?><SuperStarReport />') == []


def test_command_reporter_error_text_is_kept() -> None:
    parser = ReportParser("r")
    parser.feed(
        b"<CommandReporterError><Message>Report 'x'</Message> not found</CommandReporterError>"
    )
    assert parser.close() == []
    assert parser.root == ERROR_ROOT
    assert parser.error_text == "Report 'x' not found"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "no XML"),
        (b"<html><body>down</body></html>", "<html>"),
        (b"<SuperStarReport><Record><A>1</Record>", "not well-formed"),
        (b"Login failed", "not well-formed"),
    ],
)
def test_not_a_report_is_refused_clearly(data: bytes, words: str) -> None:
    with pytest.raises(SourceFormatError) as raised:
        _parse(data)
    assert words in str(raised.value)
    assert "test report" in str(raised.value)


def test_byte_cap() -> None:
    parser = ReportParser("big report", max_bytes=100)
    parser.feed(b"<SuperStarReport>" + b" " * 50)
    with pytest.raises(SourceFormatError, match="larger than the 100-byte cap"):
        parser.feed(b" " * 50)


def test_memory_does_not_grow_with_the_report(tmp_path: Path) -> None:
    """Parsing 4x the pupils holds about the same memory: one pupil's rows at a time."""
    from misbridge_sims.render import report_rows
    from misbridge_sims.reports import report_by_key

    report = report_by_key("students")
    peaks: list[int] = []
    sizes: list[int] = []
    for students in (200, 800):
        folder = tmp_path / str(students)
        folder.mkdir()
        school = sample_school(seed=1, students=students, staff=3)
        path = folder / f"{report.name()}.xml"
        with path.open("wb") as out:
            write_report(out, report_rows(report, school))
        session = SimsSession(
            ReporterConfig.from_context(
                ExtractContext(mis="sims", settings={"from_xml": str(folder)})
            )
        )

        async def read(session: SimsSession = session) -> int:
            return len([e.key async for e in session.entities(report)])

        asyncio.run(read())  # first-use allocations (event loop, logger) are not the report's
        tracemalloc.start()
        try:
            assert asyncio.run(read()) == students
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        sizes.append(path.stat().st_size)
    # A fixed cost (a 64 KiB read chunk and the records it completes) plus one pupil's
    # rows; only the IDs already finished grow, a few dozen bytes per pupil.
    assert peaks[1] < peaks[0] * 1.25 + 50_000, peaks
    assert peaks[1] < sizes[1], (peaks, sizes)
