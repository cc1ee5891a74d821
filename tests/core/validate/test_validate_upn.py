from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.validate import upn_check_letter, upn_problem
from misbridge.validate.upn import CHECK_ALPHABET


def test_reference_vectors() -> None:
    assert upn_problem("B801200005001") is None
    assert upn_problem("A801200005001") == "MB1510"


def test_arbor_worked_example_is_p_not_q() -> None:
    # Weighted sum 266 (Arbor says 267); 266 mod 23 = 13 -> P.
    assert upn_check_letter("207000016049") == "P"
    assert upn_problem("P207000016049") is None
    assert upn_problem("Q207000016049") == "MB1510"


def test_la_prefix_is_never_a_reason_to_reject() -> None:
    # 001 and 820 are LA codes that python-stdnum's list misses; 999 is nobody's.
    for la in ("001", "820", "999"):
        body = la + "200005001"
        assert upn_problem(upn_check_letter(body) + body) is None


@pytest.mark.parametrize(
    "upn",
    [
        "",
        "B80120000500",
        "B8012000050011",
        "880120000500A",
        "B80120000500I",
        "B8012000O5001",
        "b801200005001",
    ],
)
def test_format_errors(upn: str) -> None:
    assert upn_problem(upn) == "MB1505"


def _oracle(upn: str) -> bool:
    # The standard as written: characters 2..13 weighted 2..13; a final letter is worth
    # its place in the alphabet without I, O, S; sum mod 23 names the check letter.
    alphabet = "ABCDEFGHJKLMNPQRTUVWXYZ"
    values = [int(c) if c.isdigit() else alphabet.index(c) for c in upn[1:]]
    return alphabet[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23] == upn[0]


bodies = st.builds(
    lambda digits, last: digits + last,
    st.text("0123456789", min_size=11, max_size=11),
    st.sampled_from(list("0123456789" + CHECK_ALPHABET)),
)


@given(bodies, st.sampled_from(list(CHECK_ALPHABET)))
def test_check_letter_matches_the_standard(body: str, letter: str) -> None:
    upn = letter + body
    assert (upn_problem(upn) is None) == _oracle(upn)
    assert upn_problem(upn_check_letter(body) + body) is None


@given(bodies, st.integers(1, 11), st.sampled_from("0123456789"))
def test_a_single_mistyped_digit_is_caught(body: str, position: int, digit: str) -> None:
    upn = upn_check_letter(body) + body
    typo = upn[:position] + digit + upn[position + 1 :]
    if typo != upn:
        assert upn_problem(typo) == "MB1510"


@given(st.text(max_size=15))
def test_never_crashes(text: str) -> None:
    assert upn_problem(text) in (None, "MB1505", "MB1510")
