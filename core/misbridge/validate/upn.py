"""The Unique Pupil Number (DfE / GovTalk UPN standard v2.0).

``Annnnnnnnnnnn`` (permanent) or ``AnnnnnnnnnnnA`` (temporary): a check letter, the
LA number (3 digits), the establishment number (4), the year (2), then 3 digits, or
2 digits and a letter for a temporary UPN. The check letter is the weighted sum of
characters 2..13 (weights 2..13) mod 23, read in the alphabet without I, O and S; a
temporary UPN's final letter counts as its place in that same alphabet.

The LA prefix is deliberately not checked: published LA lists (python-stdnum's among
them) miss codes that the DfE and the MIS accept, and a false rejection locks a pupil
out. The Arbor help centre's worked example (``?207000016049`` -> Q) is arithmetically
wrong; the right letter is P (see tests).
"""

from __future__ import annotations

from operator import mul

__all__ = ["CHECK_ALPHABET", "upn_check_letter", "upn_problem"]

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_LETTER_VALUE = {c: i for i, c in enumerate(CHECK_ALPHABET)}
_DIGIT = {str(d): d for d in range(10)}
_WEIGHTS = range(2, 13)


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters after it; ``ValueError`` if malformed."""
    if len(body) != 12:
        raise ValueError("a UPN body is 12 characters")
    digits = body[:11]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("UPN characters 2 to 12 are digits")
    last = body[11]
    value = _DIGIT.get(last)
    if value is None:
        value = _LETTER_VALUE.get(last)
        if value is None:
            raise ValueError("a UPN ends in a digit or a letter other than I, O, S")
    total = sum(map(mul, map(int, digits), _WEIGHTS)) + value * 13
    return CHECK_ALPHABET[total % 23]


_PREFIX_SUMS: dict[str, int] = {}


def upn_problem(upn: str) -> str | None:
    """``None`` for a valid UPN, else the error code: MB1505 (format) or MB1510 (check
    letter). Expects the normalised (trimmed, upper-case) value."""
    if len(upn) != 13:
        return "MB1505"
    first = upn[0]
    # Pupils of one school and cohort share characters 2..10 (LA, school, year): their
    # weighted sum is remembered, so a whole school costs little more than its cohorts.
    prefix = upn[1:10]
    partial = _PREFIX_SUMS.get(prefix)
    if partial is None:
        if not (prefix.isascii() and prefix.isdigit()):
            return "MB1505"
        partial = sum(map(mul, map(int, prefix), _WEIGHTS))
        if len(_PREFIX_SUMS) < 100_000:
            _PREFIX_SUMS[prefix] = partial
    d10, d11, last = upn[10], upn[11], upn[12]
    ten, eleven = _DIGIT.get(d10), _DIGIT.get(d11)
    value = _DIGIT.get(last)
    if value is None:
        value = _LETTER_VALUE.get(last)
    if ten is None or eleven is None or value is None or not ("A" <= first <= "Z"):
        return "MB1505"
    expected = CHECK_ALPHABET[(partial + ten * 11 + eleven * 12 + value * 13) % 23]
    return None if first == expected else "MB1510"
