"""Encodings through the plugin's real file and process code: a report is read in the
encoding it really is in, or refused with a clear message, never read as mojibake."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import SourceFormatError
from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.source import SourceSchool, SourceStudent
from misbridge_sims.encoding import ReportDecoder
from misbridge_sims.render import report_rows, write_report
from misbridge_sims.reports import report_by_key

from .conftest import run

STUDENTS = report_by_key("students")


@pytest.fixture
def accented(school: SourceSchool) -> SourceStudent:
    return next(s for s in school.students if s.legal_forename == "Anaïs")


def _export(folder: Path, school: SourceSchool, **encodings: object) -> None:
    folder.mkdir(exist_ok=True)
    with (folder / "misbridge Students.xml").open("wb") as out:
        write_report(out, report_rows(STUDENTS, school), **encodings)  # type: ignore[arg-type]


def _from_xml(folder: Path) -> ExtractResult:
    return asyncio.run(
        extract_async("sims", settings={"from_xml": str(folder)}, datasets=[Dataset.STUDENTS])
    )


def _forenames(result: ExtractResult) -> set[str]:
    return {s.legal_forename for s in result.of(Dataset.STUDENTS)}  # type: ignore[attr-defined]


def test_utf8_bytes_under_a_windows_1252_declaration_are_refused(
    tmp_path: Path, school: SourceSchool
) -> None:
    _export(tmp_path, school, encoding="utf-8", declared="windows-1252", bom=False)
    result = _from_xml(tmp_path)
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED  # not "complete" with "AnaÃ¯s"
    message = outcome.message or ""
    assert "misbridge Students" in message and "windows-1252" in message
    assert "holds UTF-8 bytes" in message and "export the report again" in message
    assert not any("Ã" in name for name in _forenames(result))


def test_a_utf8_byte_order_mark_under_a_windows_1252_declaration_is_refused(
    tmp_path: Path, school: SourceSchool
) -> None:
    _export(tmp_path, school, encoding="utf-8", declared="windows-1252", bom=True)
    message = _from_xml(tmp_path).outcomes[Dataset.STUDENTS].message or ""
    assert "byte order mark" in message and "windows-1252" in message


def test_an_unknown_encoding_name_is_named(tmp_path: Path, school: SourceSchool) -> None:
    _export(tmp_path, school, declared="x-sims-legacy")
    outcome = _from_xml(tmp_path).outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "internal error" not in (outcome.message or "")
    assert "misbridge Students" in (outcome.message or "")
    assert "'x-sims-legacy', which is not a known encoding" in (outcome.message or "")


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("cp1252", "windows-1252"), ("utf-16", "utf-16"), ("iso-8859-1", "ISO-8859-1")],
)
def test_reports_really_in_their_declared_encoding_are_read(
    tmp_path: Path, school: SourceSchool, accented: SourceStudent, encoding: str, declared: str
) -> None:
    _export(tmp_path, school, encoding=encoding, declared=declared)
    result = _from_xml(tmp_path)
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert accented.legal_forename in _forenames(result)


def test_console_code_page_in_stdout_mode(make_sim, accented: SourceStudent) -> None:
    # A redirected Windows console re-encodes the XML's text into its code page and
    # leaves the declaration (utf-8) as it was.
    sim = make_sim(console_encoding="cp850")
    result = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,), console_encoding="cp850"))
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert accented.legal_forename in _forenames(result)

    declared = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,), console_encoding="declared"))
    message = declared.outcomes[Dataset.STUDENTS].message or ""
    assert declared.outcomes[Dataset.STUDENTS].status is OutcomeStatus.FAILED
    assert "not valid utf-8" in message and "console_encoding" in message and "chcp" in message


def test_auto_falls_back_to_this_consoles_code_page(
    make_sim, accented: SourceStudent, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_sim(console_encoding="cp850")
    # No console here (POSIX): auto has nothing to fall back to and says what to set.
    alone = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,)))
    assert "console_encoding" in (alone.outcomes[Dataset.STUDENTS].message or "")
    # On the SIMS server the console's code page is asked for (GetConsoleOutputCP).
    monkeypatch.setattr("misbridge_sims.settings.console_code_page", lambda: "cp850")
    result = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,)))
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert accented.legal_forename in _forenames(result)
    # ... while output that is what it declares is still read as declared.
    plain = asyncio.run(run(make_sim(), datasets=(Dataset.STUDENTS,)))
    assert accented.legal_forename in _forenames(plain)


def test_file_mode_reads_the_declared_encoding_through_the_process(
    make_sim, accented: SourceStudent
) -> None:
    sim = make_sim(xml_encoding="cp1252", declared_encoding="windows-1252")
    good = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,), output="file"))
    assert accented.legal_forename in _forenames(good)
    sim.configure(xml_encoding="utf-8", declared_encoding="windows-1252", byte_order_mark=False)
    bad = asyncio.run(run(sim, datasets=(Dataset.STUDENTS,), output="file"))
    assert bad.outcomes[Dataset.STUDENTS].status is OutcomeStatus.FAILED
    assert "holds UTF-8 bytes" in (bad.outcomes[Dataset.STUDENTS].message or "")


def test_a_console_encoding_that_is_no_encoding_is_a_configuration_error(make_sim) -> None:
    from misbridge.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="console_encoding"):
        asyncio.run(run(make_sim(), datasets=(Dataset.STUDENTS,), console_encoding="cp-nope"))


# -- the decoder on its own: round trips in any chunking -------------------------------------
names = st.text(st.characters(codec="cp1252", exclude_categories=("Cs", "Cc")), max_size=20)


def _decode(data: bytes, sizes: list[int], **options: object) -> str:
    decoder = ReportDecoder("r", **options)  # type: ignore[arg-type]
    out, position = b"", 0
    for size in sizes:
        out += decoder.feed(data[position : position + size])
        position += size
    out += decoder.feed(data[position:]) + decoder.close()
    return out.decode("utf-8")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _document(name: str, declared: str) -> str:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;")
    return f'<?xml version="1.0" encoding="{declared}"?><R><A>{escaped}</A></R>'


@given(names, st.sampled_from(["utf-8", "cp1252", "utf-16", "cp850"]), st.lists(st.integers(1, 9)))
def test_any_name_in_its_declared_encoding_reads_back(
    name: str, encoding: str, sizes: list[int]
) -> None:
    doc = _document(name, encoding)
    try:
        data = doc.encode(encoding)
    except UnicodeEncodeError:
        return  # cp850 lacks some cp1252 characters
    try:
        decoded = _decode(data, sizes)
    except SourceFormatError as refused:
        # Only genuine single-byte text whose first non-ASCII characters happen to form
        # a UTF-8 sequence (vanishingly rare in names) is taken for mislabelled UTF-8.
        first = next(i for i, b in enumerate(data) if b >= 0x80)
        assert encoding in ("cp1252", "cp850") and "holds UTF-8 bytes" in str(refused)
        assert any(_is_utf8(data[first : first + k]) for k in (2, 3, 4))
        return
    assert decoded.removeprefix("\ufeff") == doc


@given(names.filter(lambda n: not n.isascii()), st.lists(st.integers(1, 9)))
def test_utf8_under_any_single_byte_declaration_is_always_refused(
    name: str, sizes: list[int]
) -> None:
    data = _document(name, "windows-1252").encode("utf-8")
    with pytest.raises(SourceFormatError, match="holds UTF-8 bytes"):
        _decode(data, sizes)


def test_stand_in_console_output_keeps_the_declaration() -> None:
    buffer = io.BytesIO()
    write_report(buffer, [{"A": "Zoë"}], encoding="cp850", declared="utf-8")
    assert buffer.getvalue().startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert "Zoë".encode("cp850") in buffer.getvalue()
