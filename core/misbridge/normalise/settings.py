"""Normaliser settings: the choices a school makes (username policy, accepted genders)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from attrs import field, frozen

__all__ = ["DEFAULT_GENDERS", "NormaliseSettings", "UsernamePolicy"]


class UsernamePolicy(enum.StrEnum):
    """Where a student's username comes from (the "default username" choice).

    Either way, a student without that value (guest and dual-registered students have
    no admission number) falls back to their personal email, else their work email.
    """

    ADMISSION_NUMBER = "admission-number"
    DIRECTORY = "directory"


DEFAULT_GENDERS: Mapping[str, str] = MappingProxyType(
    {"M": "Male", "Male": "Male", "F": "Female", "Female": "Female"}
)


def _gender_table(genders: Mapping[str, str]) -> Mapping[str, str]:
    # Keys are matched case-insensitively; each gender name also matches itself, so
    # that normalising the normaliser's own output changes nothing.
    table: dict[str, str] = {}
    for accepted, name in genders.items():
        clean = " ".join(name.split())
        if not clean:
            raise ValueError(f"gender setting {accepted!r}: the gender name is empty")
        table[" ".join(accepted.split()).casefold()] = clean
        table.setdefault(clean.casefold(), clean)
    return MappingProxyType(table)


@frozen
class NormaliseSettings:
    """``genders`` maps each accepted MIS value to the gender name stored (matching is
    case-insensitive); a value not in it is left out with a warning, never guessed."""

    username_policy: UsernamePolicy = UsernamePolicy.ADMISSION_NUMBER
    genders: Mapping[str, str] = field(default=DEFAULT_GENDERS, converter=_gender_table)
