"""The permissions pre-flight against stand-in accounts that lack one thing each."""

from __future__ import annotations

import asyncio

import pytest

from misbridge.errors import AuthenticationError
from misbridge.hooktypes import ExtractContext, PermissionCheck, Secret
from misbridge.model import Dataset
from misbridge_sims import plugin
from misbridge_sims.errors import permissions_named
from misbridge_sims.reports import (
    PERMISSION_GROUPS,
    PERMISSION_LINES,
    PERSON_PHOTO,
    REPORTS,
    THIRD_PARTY_REPORTER,
    chain,
)


async def _check(
    sim: object, credentials: dict[str, str] | None = None
) -> dict[Dataset, PermissionCheck]:
    source = sim.source()  # type: ignore[attr-defined]
    creds = dict(source.credentials) if credentials is None else credentials
    context = ExtractContext(
        mis="sims",
        settings=dict(source.settings),
        credentials={k: Secret(v) for k, v in creds.items()},
    )
    session = await plugin.authenticate(context)
    try:
        pending = plugin.check_permissions(session, context)
        assert pending is not None
        return {c.dataset: c for c in await pending}  # type: ignore[misc]
    finally:
        await session.aclose()


def _groups_without(*names: str) -> list[str]:
    return [g for g in PERMISSION_GROUPS if g not in names]


def test_full_account_passes_every_dataset(make_sim) -> None:
    checks = asyncio.run(_check(make_sim()))
    assert set(checks) == {
        Dataset.YEARS,
        Dataset.STAFF,
        Dataset.STUDENTS,
        Dataset.GROUPS,
        Dataset.PHOTOS,
        Dataset.EXAM_RESULTS,
    }
    assert all(c.ok for c in checks.values()), checks


def test_the_seeds_permissions_are_all_known() -> None:
    assert len(PERMISSION_GROUPS) == 6 and len(PERMISSION_LINES) == 7
    needed = {p for r in REPORTS for p in r.requires}
    # The seven lines of the sync rules, and the one the student sync needs for photos.
    assert needed == {*PERMISSION_GROUPS, *PERMISSION_LINES, PERSON_PHOTO}
    assert chain(Dataset.GROUPS) == (Dataset.YEARS, Dataset.STUDENTS, Dataset.STAFF, Dataset.GROUPS)


def test_missing_group_is_named_with_its_chain(make_sim) -> None:
    checks = asyncio.run(_check(make_sim(groups=_groups_without("Personnel Officer"))))
    assert checks[Dataset.STAFF].missing == ("Personnel Officer",)
    # Memberships link staff, so groups needs the staff dataset's permissions too.
    assert checks[Dataset.GROUPS].missing == ("Personnel Officer",)
    assert any("links to staff" in n for n in checks[Dataset.GROUPS].notes)
    assert (
        checks[Dataset.STUDENTS].ok and checks[Dataset.YEARS].ok and checks[Dataset.EXAM_RESULTS].ok
    )


def test_missing_line_reaches_every_dataset_that_links_students(make_sim) -> None:
    line = "Students -> Welfare -> View (All)"
    sim = make_sim(lines=[x for x in PERMISSION_LINES if x != line])
    checks = asyncio.run(_check(sim))
    for dataset in (Dataset.STUDENTS, Dataset.GROUPS, Dataset.EXAM_RESULTS):
        assert checks[dataset].missing == (line,), dataset
    assert checks[Dataset.STAFF].ok and checks[Dataset.YEARS].ok


def test_no_third_party_reporter_is_reported_as_exactly_that(make_sim) -> None:
    checks = asyncio.run(_check(make_sim(groups=_groups_without(THIRD_PARTY_REPORTER))))
    for check in checks.values():
        assert check.missing == (THIRD_PARTY_REPORTER,)
        assert any("left out its ID columns" in n for n in check.notes)


def test_blank_columns_are_inferred_and_said_to_be(make_sim) -> None:
    line = "All People -> Address Details -> View (All)"
    sim = make_sim(lines=[x for x in PERMISSION_LINES if x != line], denied_style="blank")
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.STUDENTS].missing == (line,)
    assert any(n.startswith("inferred:") for n in checks[Dataset.STUDENTS].notes)


def test_missing_report_is_named(make_sim) -> None:
    sim = make_sim(reports=[r.name() for r in REPORTS if r.key != "exam_results"])
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.EXAM_RESULTS].missing[0].startswith("report 'misbridge Exam Results'")
    assert "CommandReportImporter" in checks[Dataset.EXAM_RESULTS].missing[0]
    assert checks[Dataset.STUDENTS].ok


def test_denied_report_without_a_named_permission_lists_the_reports_needs(make_sim) -> None:
    sim = make_sim(fail_reports={"misbridge Classes": "Access denied."})
    checks = asyncio.run(_check(sim))
    assert checks[Dataset.GROUPS].missing == (
        "Curricular Manager",
        "Timetabler",
        "Students -> Record -> View",
    )
    assert any("did not say which" in n for n in checks[Dataset.GROUPS].notes)


def test_refused_login_stops_the_check(make_sim) -> None:
    sim = make_sim()
    with pytest.raises(AuthenticationError):
        asyncio.run(_check(sim, credentials=dict(sim.wrong_credentials())))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "Missing permission: Students -> Ethnic/Cultural -> View (All).",
            ("Students -> Ethnic/Cultural -> View (All)",),
        ),
        ("You must be in the Exams Officer or Timetabler group", ("Timetabler", "Exams Officer")),
        ("students > record > view", ("Students -> Record -> View",)),
        ("Access denied", ()),
    ],
)
def test_permissions_are_read_from_messages(text: str, named: tuple[str, ...]) -> None:
    assert set(permissions_named(text)) == set(named)
