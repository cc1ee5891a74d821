"""The extract folder's JSON Lines: the bytes the standard library would write.

The sink writes with orjson for speed; these tests hold it to the form the folder had
(``json.dumps(line, ensure_ascii=False, separators=(",", ":"))`` in UTF-8), so readers
and digests of extract files see no change, whatever text a school's MIS holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from misbridge.convert import from_plain, to_plain, type_named
from misbridge.model import Dataset, Student
from misbridge.normalise import Normaliser, NormaliseSettings
from misbridge.output import JsonlSink
from misbridge.result import ModelRecord
from misbridge.testing.school import sample_school


def _stdlib_line(record: ModelRecord) -> bytes:
    line = {"type": type(record).__name__, "record": to_plain(record)}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _normalised() -> list[tuple[Dataset, ModelRecord]]:
    school = sample_school(seed=0, students=40, staff=5)
    normaliser = Normaliser(NormaliseSettings(), mis="sims", mis_title="SIMS")
    out: list[tuple[Dataset, ModelRecord]] = []
    for dataset in (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS):
        for source in school.records(dataset):
            model, _ = normaliser.normalise(dataset, source)
            if model is not None:
                out.append((dataset, model))  # type: ignore[arg-type]
    return out


def _write(folder: Path, records: list[tuple[Dataset, ModelRecord]]) -> None:
    sink = JsonlSink(folder)
    for dataset, record in records:
        sink.write(dataset, record)
    sink.close()


def test_the_sample_school_is_written_as_the_standard_library_writes_it(tmp_path: Path) -> None:
    records = _normalised()
    assert {d for d, _ in records} == {
        Dataset.YEARS,
        Dataset.STAFF,
        Dataset.STUDENTS,
        Dataset.GROUPS,
    }
    _write(tmp_path, records)
    for dataset in (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS):
        expected = b"".join(_stdlib_line(r) for d, r in records if d == dataset)
        assert (tmp_path / f"{dataset.value}.jsonl").read_bytes() == expected
        assert (tmp_path / f"{dataset.value}.jsonl").stat().st_mode & 0o777 == 0o600


# Any text a name may hold: accents, other scripts, emoji, control characters (ESC
# sequences), quotes, backslashes, U+2028; never a lone surrogate (no MIS sends one and
# neither writer can encode it).
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(forename=names, surname=names)
def test_any_name_is_written_byte_for_byte_as_before(
    tmp_path_factory: pytest.TempPathFactory, forename: str, surname: str
) -> None:
    students = [r for d, r in _normalised() if d is Dataset.STUDENTS]
    assert isinstance(students[0], Student)
    record = evolve(students[0], legal_forename=forename, legal_surname=surname)
    folder = tmp_path_factory.mktemp("out")
    _write(folder, [(Dataset.STUDENTS, record)])
    assert (folder / "students.jsonl").read_bytes() == _stdlib_line(record)


def test_written_lines_read_back_as_the_records(tmp_path: Path) -> None:
    records = _normalised()
    _write(tmp_path, records)
    for dataset in (Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS):
        lines = (tmp_path / f"{dataset.value}.jsonl").read_text(encoding="utf-8").splitlines()
        back = [
            from_plain(line["record"], type_named(line["type"])) for line in map(json.loads, lines)
        ]
        assert back == [r for d, r in records if d == dataset]
