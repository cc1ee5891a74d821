"""The field rules (docs/normalisation.md), each implemented once.

Every function here is pure and small: the normaliser calls them and the property
tests check them against brute-force oracles.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol, TypeVar

from misbridge.model import EmailPreference

__all__ = [
    "CONTACT_TYPES",
    "YEAR_CODES",
    "canonical_type",
    "choose_flagged",
    "choose_home_address",
    "clean_code",
    "clean_text",
    "email_preference",
    "ethnicity_code",
    "match_gender",
    "sen_code",
    "year_group_code",
]


def clean_text(value: str | None) -> str | None:
    """Trim, collapse inner whitespace, Unicode NFC; blank becomes ``None``."""
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def clean_code(value: str | None) -> str | None:
    """Trim and upper-case a code ("wbri " -> "WBRI"); blank becomes ``None``."""
    if value is None:
        return None
    text = value.strip().upper()
    return text or None


# Contact types: plugins pass the vendor's letter; a few vendors spell the word out.
_TYPES = {
    "H": "H",
    "HOME": "H",
    "PERSONAL": "H",
    "M": "M",
    "MOBILE": "M",
    "W": "W",
    "WORK": "W",
}


#: The raw spellings seen in practice, looked up as-is before any string work.
CONTACT_TYPES: dict[str, str] = {
    spelling: letter
    for word, letter in _TYPES.items()
    for spelling in (word, word.lower(), word.title())
}


def canonical_type(value: str | None) -> str | None:
    """The contact type letter ("H", "M", "W") for a vendor's type, else the type as given."""
    if value is None:
        return None
    text = value.strip().upper()
    return _TYPES.get(text, text)


class Flagged(Protocol):
    @property
    def primary(self) -> bool: ...
    @property
    def main(self) -> bool: ...


F = TypeVar("F", bound=Flagged)


def choose_flagged(candidates: Sequence[F]) -> F | None:
    """The telephone/email rule: the one marked Primary, then Main, then the first."""
    if not candidates:
        return None
    for item in candidates:
        if item.primary:
            return item
    for item in candidates:
        if item.main:
            return item
    return candidates[0]


A = TypeVar("A")


def choose_home_address(candidates: Sequence[tuple[A, date | None]]) -> A | None:
    """The home address with the most recent start date.

    ``candidates`` are the home addresses with their parsed start dates, in the
    MIS's order. Ties go to the first in the list; an address without a start date
    loses to any dated one (and among undated ones the first wins).
    """
    best: A | None = None
    best_start: date | None = None
    for address, start in candidates:
        if best is None or (start is not None and (best_start is None or start > best_start)):
            best, best_start = address, start
    return best


_PREFERENCE = {"H": EmailPreference.PERSONAL, "W": EmailPreference.WORK}


class TypedFlagged(Flagged, Protocol):
    @property
    def type(self) -> str | None: ...


def email_preference(emails: Sequence[TypedFlagged]) -> EmailPreference:
    """The type of the Primary email, else of the Main email, else Personal.

    A Primary (or Main) email of a type that is neither personal nor work does not
    decide the preference; the next criterion does.
    """
    for flag in ("primary", "main"):
        for item in emails:
            if getattr(item, flag):
                kind = item.type
                preference = _PREFERENCE.get(CONTACT_TYPES.get(kind) or canonical_type(kind) or "")  # type: ignore[arg-type]
                if preference is not None:
                    return preference
                break
    return EmailPreference.PERSONAL


def match_gender(value: str | None, genders: Mapping[str, str]) -> tuple[str | None, bool]:
    """``(gender, recognised)``: the configured gender name for ``value``, or ``None``.

    ``recognised`` is False when a value was given but matches no configured gender
    (the caller reports it); a blank value is simply absent.
    """
    if value is None:
        return None, True
    key = " ".join(value.split()).casefold()
    if not key:
        return None, True
    name = genders.get(key)
    return name, name is not None


_YEARS: dict[str, str] = {str(n): str(n) for n in range(1, 14)}
_YEARS.update({f"0{n}": str(n) for n in range(1, 10)})
_YEARS.update({"R": "R", "RECEPTION": "R", "REC": "R", "YR": "R", "N1": "N1", "N2": "N2"})
#: Exact raw spellings of NC years, looked up before any string work.
YEAR_CODES: dict[str, str] = {
    **_YEARS,
    **{f"{p}{s}{n}": code for n, code in _YEARS.items() for p in ("Year", "Y") for s in ("", " ")},
    "Reception": "R",
}
_YEAR_PREFIXES = ("NC YEAR", "YEAR", "YR", "Y")


def year_group_code(value: str | None) -> str | None:
    """The NC year code ("R", "1".."13", "N1", "N2") for "Year  7", "Y7", "7",
    "Reception"...; ``None`` when the value is not a year group we can name."""
    if value is None:
        return None
    key = "".join(value.split()).upper()
    code = _YEARS.get(key)
    if code is not None:
        return code
    for prefix in _YEAR_PREFIXES:
        compact = prefix.replace(" ", "")
        if key.startswith(compact):
            return _YEARS.get(key[len(compact) :])
    return None


_SEN: dict[str, str] = {
    "N": "N",
    "K": "K",
    "E": "E",
    "NO SPECIAL EDUCATIONAL NEED": "N",
    "NO SPECIAL EDUCATIONAL NEEDS": "N",
    "NO SEN": "N",
    "SEN SUPPORT": "K",
    "EDUCATION, HEALTH AND CARE PLAN": "E",
    "EDUCATION HEALTH AND CARE PLAN": "E",
    "EHC PLAN": "E",
    "EHCP": "E",
}


def sen_code(value: str | None) -> str | None:
    """The DfE SEN provision code (N, K, E) for a code or its words; other values are
    returned trimmed and upper-cased for the validator to reject."""
    if value is None:
        return None
    key = " ".join(value.split()).upper()
    if not key:
        return None
    return _SEN.get(key, key)


def ethnicity_code(value: str | None) -> str | None:
    """Ethnicity codes are kept as given, trimmed and upper-cased; the validator checks
    them against the DfE main and extended code sets."""
    return clean_code(value)
