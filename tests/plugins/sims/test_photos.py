"""Photos through the plugin's real process and file code: the photo reports' picture
column, a folder of exported photos, the "Photograph Student" consent, the permission
"All People -> Person Photo -> View", and hostile files in the folder."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import attrs
import pytest

from misbridge.model import Dataset, Role
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.source import SourceSchool
from misbridge.testing.school import sample_school
from misbridge_sims.reports import PERMISSION_LINES, PERSON_PHOTO

from .conftest import own_read_bytes, run
from .test_permissions import _check

PHOTOS = (Dataset.PHOTOS,)


def _people(result: ExtractResult) -> dict[str, bytes]:
    return {p.person_mis_id: p.data for p in result.of(Dataset.PHOTOS)}  # type: ignore[attr-defined]


def _expected(school: SourceSchool, without: set[str] = frozenset()) -> dict[str, bytes]:  # type: ignore[assignment]
    return {p.person_mis_id: p.data for p in school.photos if p.person_mis_id not in without}


def test_photo_column_gives_every_photo_with_its_role(make_sim, school: SourceSchool) -> None:
    result = asyncio.run(run(make_sim(), datasets=PHOTOS))
    assert result.outcomes[Dataset.PHOTOS].status is OutcomeStatus.COMPLETE
    assert _people(result) == _expected(school)
    roles = {p.person_mis_id: p.role for p in result.of(Dataset.PHOTOS)}  # type: ignore[attr-defined]
    assert roles == {p.person_mis_id: p.role for p in school.photos}


@pytest.mark.parametrize("style", ["rows", "list"])
def test_a_pupil_without_photograph_consent_is_left_out(
    make_sim, school: SourceSchool, style: str
) -> None:
    refused = school.photos[1].person_mis_id
    sim = make_sim(consents={refused: ["Internet Access", "School Trips"]}, consent_style=style)
    result = asyncio.run(run(sim, datasets=PHOTOS))
    assert result.outcomes[Dataset.PHOTOS].status is OutcomeStatus.COMPLETE
    assert _people(result) == _expected(school, {refused})


def test_no_pupil_with_the_consent_takes_no_pupil_photo_and_says_so(
    make_sim, school: SourceSchool
) -> None:
    sim = make_sim(default_consents=["Internet Access"])
    result = asyncio.run(run(sim, datasets=PHOTOS))
    outcome = result.outcomes[Dataset.PHOTOS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "'Photograph Student'" in (outcome.message or "")
    assert "photo_consent" in (outcome.message or "")
    assert set(_people(result)) == {p.person_mis_id for p in school.photos if p.role is Role.STAFF}
    # A school that has photo consent on other grounds says so; one whose consent has
    # another name names it.
    ignored = asyncio.run(run(sim, datasets=PHOTOS, photo_consent="ignore"))
    assert _people(ignored) == _expected(school)
    sim.configure(default_consents=["Photographs"])
    named = asyncio.run(run(sim, datasets=PHOTOS, photo_consent_type="photographs"))
    assert _people(named) == _expected(school)


@pytest.mark.parametrize("names", ["admission_number", "person_id"])
def test_folder_of_exported_photos(make_sim, school: SourceSchool, names: str) -> None:
    sim = make_sim(photo_folder=names)
    assert {p.stem for p in sim.photos.iterdir()} >= (
        {s.admission_number for s in school.students[:6]}
        if names == "admission_number"
        else {p.person_mis_id for p in school.photos}
    )
    result = asyncio.run(run(sim, datasets=PHOTOS))
    assert result.outcomes[Dataset.PHOTOS].status is OutcomeStatus.COMPLETE
    assert _people(result) == _expected(school)


def test_a_report_without_a_photo_column_and_no_folder_says_what_to_do(make_sim) -> None:
    result = asyncio.run(run(make_sim(photo_column=False), datasets=PHOTOS))
    outcome = result.outcomes[Dataset.PHOTOS]
    assert outcome.status is OutcomeStatus.FAILED
    assert "--photo-folder" in (outcome.message or "") and PERSON_PHOTO in (outcome.message or "")


def test_the_pre_flight_names_the_person_photo_permission(make_sim) -> None:
    checks = asyncio.run(_check(make_sim(lines=list(PERMISSION_LINES))))
    assert checks[Dataset.PHOTOS].missing == (PERSON_PHOTO,)
    for dataset in (Dataset.STUDENTS, Dataset.STAFF, Dataset.GROUPS, Dataset.YEARS):
        assert checks[dataset].ok, checks[dataset]
    extract = asyncio.run(run(make_sim(lines=list(PERMISSION_LINES)), datasets=PHOTOS))
    assert PERSON_PHOTO in (extract.outcomes[Dataset.PHOTOS].message or "")


def test_a_photo_column_withheld_by_sims_is_noted_in_the_pre_flight(make_sim) -> None:
    sim = make_sim(lines=list(PERMISSION_LINES), denied_style="blank")
    notes = asyncio.run(_check(sim))[Dataset.PHOTOS].notes
    assert any("has a photo" in n and PERSON_PHOTO in n for n in notes)


def test_oversized_and_broken_photos_in_the_column_are_named(
    make_sim, school: SourceSchool
) -> None:
    result = asyncio.run(run(make_sim(), datasets=PHOTOS, max_photo_bytes="60"))
    outcome = result.outcomes[Dataset.PHOTOS]
    sizes = {p.person_mis_id: len(p.data) for p in school.photos}
    small = {k for k, n in sizes.items() if n <= 60}
    assert set(_people(result)) == small
    assert outcome.status is (OutcomeStatus.PARTIAL if small else OutcomeStatus.FAILED)
    assert "over the 60-byte cap" in (outcome.message or "")


# -- a hostile photo folder ----------------------------------------------------------------
@pytest.fixture
def hostile(make_sim, tmp_path: Path, school: SourceSchool):  # type: ignore[no-untyped-def]
    """The exported folder, with one bad file each for the next pupils."""
    sim = make_sim(photo_folder="admission_number")
    students = school.students
    secret = tmp_path / "secret.png"
    secret.write_bytes(school.photos[0].data)
    folder = sim.photos
    cases = {}
    # A symbolic link out of the folder, in place of a photo.
    (folder / f"{students[0].admission_number}.png").unlink()
    (folder / f"{students[0].admission_number}.png").symlink_to(secret)
    cases[students[0].mis_id] = "symbolic link"
    # Far over the cap (sparse: it costs no disk).
    with (folder / f"{students[1].admission_number}.png").open("r+b") as big:
        big.truncate(200 * 1024 * 1024)
    cases[students[1].mis_id] = "over the"
    # Two files for one pupil: "003002.png" and "3002.jpg" are both admission 3002.
    (folder / f"{students[2].admission_number.lstrip('0')}.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    cases[students[2].mis_id] = "several files"
    # A pipe and a folder under photo names.
    (folder / f"{students[3].admission_number}.png").unlink()
    os.mkfifo(folder / f"{students[3].admission_number}.png")
    cases[students[3].mis_id] = "not a regular file"
    (folder / f"{students[4].admission_number}.png").unlink()
    (folder / f"{students[4].admission_number}.png").mkdir()
    cases[students[4].mis_id] = "not a regular file"
    # Text under a picture's name: handed on as its first bytes, for MB6001.
    (folder / f"{students[5].admission_number}.png").write_bytes(b"not a picture" * 100_000)
    return sim, cases, students[5].mis_id


def test_hostile_photo_files_are_refused_and_named(hostile, school: SourceSchool) -> None:  # type: ignore[no-untyped-def]
    sim, cases, not_a_picture = hostile
    # What an extract reads besides the photos (the reporter's pipes, plugin metadata).
    baseline = own_read_bytes()
    asyncio.run(run(sim, datasets=PHOTOS, photo_consent="ignore", photo_folder=str(sim.folder)))
    baseline = own_read_bytes() - baseline
    read_before = own_read_bytes()
    result = asyncio.run(run(sim, datasets=PHOTOS))
    read = own_read_bytes() - read_before - baseline
    outcome = result.outcomes[Dataset.PHOTOS]
    assert outcome.status is OutcomeStatus.PARTIAL
    message = outcome.message or ""
    for person, words in cases.items():
        assert f"person {person} (file" in message, person
        assert words in message.split(f"person {person} (file", 1)[1].split(")")[0], person
    # Staff photos still came; none of the refused ones did, nor the text.
    taken = _people(result)
    assert set(taken) == {p.person_mis_id for p in school.photos if p.role is Role.STAFF}
    errors = [e for e in result.errors if e.dataset == Dataset.PHOTOS.value]
    assert [(e.mis_id, e.code) for e in errors] == [(not_a_picture, "MB6001")]
    # Neither the 200 MB file nor the 1.3 MB text was read whole.
    assert read < 1024 * 1024, read


def test_a_path_in_an_admission_number_never_leaves_the_folder(make_sim, tmp_path: Path) -> None:
    school = sample_school(seed=5, students=20, staff=3)
    first = school.students[0]
    escaping = attrs.evolve(first, admission_number="../outside")
    school = attrs.evolve(school, students=(escaping, *school.students[1:]))
    sim = make_sim(school, photo_folder="admission_number")
    (sim.photos.parent / "outside.png").write_bytes(
        next(p.data for p in school.photos if p.person_mis_id == first.mis_id)
    )
    result = asyncio.run(run(sim, datasets=PHOTOS))
    assert first.mis_id not in _people(result)
    assert set(_people(result)) == {p.person_mis_id for p in school.photos} - {first.mis_id}


def test_exported_photo_reports_with_wrapped_and_broken_base64(
    tmp_path: Path, school: SourceSchool
) -> None:
    from misbridge_sims.render import report_rows, write_report
    from misbridge_sims.reports import report_by_key

    students = list(report_rows(report_by_key("student_photos"), school))
    pictured = [r for r in students if r["Photo"]]
    wrapped, broken = pictured[0], pictured[1]
    text = wrapped["Photo"]
    wrapped["Photo"] = "\r\n".join(text[i : i + 20] for i in range(0, len(text), 20))
    broken["Photo"] = "not*base64"
    for row in students:
        row["Parental Consent"] = "Photograph Student"
    with (tmp_path / "misbridge Student Photos.xml").open("wb") as out:
        write_report(out, students)
    with (tmp_path / "misbridge Staff Photos.xml").open("wb") as out:
        write_report(out, report_rows(report_by_key("staff_photos"), school))
    result = asyncio.run(run_from_xml(tmp_path))
    outcome = result.outcomes[Dataset.PHOTOS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert f"person {broken['Person ID']} ('Photo' of misbridge Student Photos is not base64)" in (
        outcome.message or ""
    )
    assert _people(result) == _expected(school, {broken["Person ID"]})


async def run_from_xml(folder: Path) -> ExtractResult:
    from misbridge.pipeline import extract_async

    return await extract_async("sims", settings={"from_xml": str(folder)}, datasets=PHOTOS)
