"""The selection rules: their documented cases, then brute-force oracles."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.model import EmailPreference
from misbridge.normalise.rules import (
    choose_flagged,
    choose_home_address,
    clean_text,
    email_preference,
    match_gender,
    sen_code,
    year_group_code,
)
from misbridge.normalise.settings import DEFAULT_GENDERS, NormaliseSettings
from misbridge.source import SourceEmail, SourceTelephone

GENDERS = NormaliseSettings().genders


def tel(n: str, primary: bool = False, main: bool = False) -> SourceTelephone:
    return SourceTelephone("H", n, primary=primary, main=main)


def test_primary_beats_main_beats_first() -> None:
    assert choose_flagged([tel("1"), tel("2", main=True), tel("3", primary=True)]).number == "3"
    assert choose_flagged([tel("1"), tel("2", main=True), tel("3", main=True)]).number == "2"
    assert choose_flagged([tel("1"), tel("2")]).number == "1"
    assert choose_flagged([]) is None


def test_most_recent_home_address_wins_ties_first_undated_lose() -> None:
    a, b, c = "a", "b", "c"
    assert choose_home_address([(a, date(2020, 1, 1)), (b, date(2023, 1, 1))]) == b
    assert choose_home_address([(a, date(2023, 1, 1)), (b, date(2023, 1, 1))]) == a
    assert choose_home_address([(a, None), (b, date(1990, 1, 1)), (c, None)]) == b
    assert choose_home_address([(a, None), (b, None)]) == a
    assert choose_home_address([]) is None


def email(t: str | None, primary: bool = False, main: bool = False) -> SourceEmail:
    return SourceEmail(t, "x@example.org", primary=primary, main=main)


def test_email_preference_seed_cases() -> None:
    W, P = EmailPreference.WORK, EmailPreference.PERSONAL
    assert email_preference([email("H"), email("W", primary=True)]) is W
    assert email_preference([email("H", main=True), email("W")]) is P
    assert email_preference([email("W", main=True), email("H")]) is W
    assert email_preference([email("W"), email("H")]) is P  # default
    assert email_preference([]) is P
    assert email_preference([email("W", main=True), email("H", primary=True)]) is P


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Year  7", "7"),
        ("Year 7", "7"),
        ("Y7", "7"),
        ("7", "7"),
        ("07", "7"),
        ("Reception", "R"),
        ("R", "R"),
        ("Year R", "R"),
        ("year 13", "13"),
        ("NC Year 10", "10"),
        ("Yr 9", "9"),
        ("N1", "N1"),
        ("Year 14", None),
        ("Yellow", None),
        ("", None),
        (None, None),
        ("0", None),
    ],
)
def test_year_group_codes(raw: str | None, code: str | None) -> None:
    assert year_group_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("N", "N"),
        (" k ", "K"),
        ("e", "E"),
        ("No Special Educational Need", "N"),
        ("SEN Support", "K"),
        ("Education, Health and Care Plan", "E"),
        ("EHC Plan", "E"),
        ("S", "S"),  # the old statement code is kept for the validator to reject
        ("", None),
    ],
)
def test_sen_codes(raw: str, code: str | None) -> None:
    assert sen_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "gender", "recognised"),
    [
        ("M", "Male", True),
        ("m", "Male", True),
        ("Female", "Female", True),
        (" FEMALE ", "Female", True),
        ("U", None, False),
        ("X", None, False),
        ("", None, True),
        (None, None, True),
    ],
)
def test_gender_matches_configured_list_only(
    raw: str | None, gender: str | None, recognised: bool
) -> None:
    assert match_gender(raw, GENDERS) == (gender, recognised)


def test_custom_genders_match_case_insensitively_and_match_their_own_names() -> None:
    genders = NormaliseSettings(genders={"U": "Unknown", "M": "Male"}).genders
    assert match_gender("u", genders) == ("Unknown", True)
    assert match_gender("unknown", genders) == ("Unknown", True)
    assert match_gender("F", genders) == (None, False)
    assert "m" in DEFAULT_GENDERS or "M" in DEFAULT_GENDERS


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Jo  ", "Jo"),
        ("Mary\t Ann", "Mary Ann"),
        ("Zoe\u0308", "Zoë"),  # decomposed -> NFC
        ("   ", None),
        (None, None),
        ("O'Brien-Smith", "O'Brien-Smith"),
    ],
)
def test_clean_text(raw: str | None, clean: str | None) -> None:
    assert clean_text(raw) == clean


# -- brute-force oracles ---------------------------------------------------------------

flags = st.builds(
    lambda n, p, m: tel(str(n), primary=p, main=m), st.integers(0, 99), st.booleans(), st.booleans()
)


@given(st.lists(flags, max_size=8))
def test_choose_flagged_matches_oracle(items: list[SourceTelephone]) -> None:
    # Oracle: rank each candidate (0 Primary, 1 Main, 2 other; then position), take the least.
    def rank(i: int) -> tuple[int, int]:
        return (0 if items[i].primary else 1 if items[i].main else 2, i)

    ranked = sorted(range(len(items)), key=rank)
    chosen = choose_flagged(items)
    if not items:
        assert chosen is None
    else:
        assert chosen is items[ranked[0]]


@given(st.lists(st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2000, 1, 20))), max_size=8))
def test_choose_home_address_matches_oracle(starts: list[date | None]) -> None:
    candidates = list(enumerate(starts))
    dated = [i for i, s in candidates if s is not None]
    if not candidates:
        expected = None
    elif dated:
        latest = max(s for s in starts if s is not None)
        expected = next(i for i, s in candidates if s == latest)
    else:
        expected = 0
    assert choose_home_address(candidates) == expected


emails = st.builds(
    lambda t, p, m: email(t, primary=p, main=m),
    st.sampled_from(["H", "W", "M", None, "home", "Work"]),
    st.booleans(),
    st.booleans(),
)


@given(st.lists(emails, max_size=6))
def test_email_preference_matches_oracle(items: list[SourceEmail]) -> None:
    names = {"H": EmailPreference.PERSONAL, "HOME": EmailPreference.PERSONAL}
    names |= {"W": EmailPreference.WORK, "WORK": EmailPreference.WORK}

    def of(flag: str) -> EmailPreference | None:
        marked = [e for e in items if getattr(e, flag)]
        return names.get((marked[0].type or "").upper()) if marked else None

    assert email_preference(items) is (of("primary") or of("main") or EmailPreference.PERSONAL)


@given(st.text(max_size=30))
def test_clean_text_is_idempotent_and_trimmed(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once
    if once is not None:
        assert once == once.strip() and "  " not in once


@given(st.integers(1, 13), st.sampled_from(["Year {}", "Year  {}", "Y{}", "{}", " year {} "]))
def test_year_group_formats(n: int, pattern: str) -> None:
    assert year_group_code(pattern.format(n)) == str(n)
    assert year_group_code(year_group_code(pattern.format(n))) == str(n)
