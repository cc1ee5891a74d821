"""Validation profiles: which fields a run requires, chosen per run by name."""

from __future__ import annotations

from attrs import frozen

from misbridge.errors import ConfigurationError

__all__ = ["PROFILES", "STAFF_FIELDS", "STUDENT_FIELDS", "Profile", "get_profile"]

#: What a profile may require of a student / a member of staff. "email" means at least
#: one email address of any type.
STUDENT_FIELDS = frozenset({"forename", "surname", "date_of_birth", "email", "upn"})
STAFF_FIELDS = frozenset({"forename", "surname", "email"})


def _check(fields: frozenset[str], allowed: frozenset[str], who: str) -> None:
    unknown = fields - allowed
    if unknown:
        raise ConfigurationError(
            f"a validation profile cannot require {sorted(unknown)} of {who}; "
            f"choose from {sorted(allowed)}"
        )


@frozen
class Profile:
    name: str
    students: frozenset[str]
    staff: frozenset[str]
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check(self.students, STUDENT_FIELDS, "students")
        _check(self.staff, STAFF_FIELDS, "staff")


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "roster",
            frozenset({"forename", "surname", "date_of_birth"}),
            frozenset({"forename", "surname"}),
            "A class roster: every pupil needs a name and a date of birth.",
        ),
        Profile(
            "account-sync",
            frozenset({"forename", "surname", "email"}),
            frozenset({"forename", "surname", "email"}),
            "The on-site checks for account sync: forename, surname and at least one "
            "email address, for every user.",
        ),
    )
}


def get_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    found = PROFILES.get(profile)
    if found is None:
        raise ConfigurationError(
            f"unknown validation profile {profile!r}; choose one of {sorted(PROFILES)}",
            profile=profile,
        )
    return found
