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

__all__ = ["CHECK_ALPHABET", "upn_check_letter", "upn_problem"]

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_LETTER_VALUE = {c: i for i, c in enumerate(CHECK_ALPHABET)}
_DIGIT = {str(d): d for d in range(10)}


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters after it; ``ValueError`` if malformed."""
    if len(body) != 12:
        raise ValueError("a UPN body is 12 characters")
    total = 0
    for weight, char in enumerate(body[:11], start=2):
        digit = _DIGIT.get(char)
        if digit is None:
            raise ValueError("UPN characters 2 to 12 are digits")
        total += digit * weight
    last = body[11]
    value = _DIGIT.get(last)
    if value is None:
        value = _LETTER_VALUE.get(last)
    if value is None:
        raise ValueError("a UPN ends in a digit or a letter other than I, O, S")
    return CHECK_ALPHABET[(total + value * 13) % 23]


def upn_problem(upn: str) -> str | None:
    """``None`` for a valid UPN, else the error code: MB1505 (format) or MB1510 (check
    letter). Expects the normalised (trimmed, upper-case) value."""
    if len(upn) != 13:
        return "MB1505"
    first = upn[0]
    if not ("A" <= first <= "Z"):
        return "MB1505"
    try:
        expected = upn_check_letter(upn[1:])
    except ValueError:
        return "MB1505"
    return None if first == expected else "MB1510"
