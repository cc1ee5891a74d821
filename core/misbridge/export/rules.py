"""The rules every export format shares: grades, sex, text safety, which academic years a
class runs in, which staff teach, the courses classes belong to, and which email and
username a person is exported with. One implementation each, tested once.

Problems are collected by :class:`Issues` as :class:`~misbridge.errors.RecordError`
values (codes MB7xxx, ``docs/error-codes.md``); nothing a format requires is ever made up.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from misbridge.errorcodes import make_error
from misbridge.errors import RecordError
from misbridge.export.roster import Enrolment, Origin, Person, Roster, RosterClass, Session
from misbridge.model import EmailPreference, GroupKind, Role
from misbridge.store.kinds import fold
from misbridge.validate.profiles import Profile, get_profile

__all__ = [
    "CEDS_GRADES",
    "REGISTRATION_COURSE_KEY",
    "Issues",
    "class_sessions",
    "contact_email",
    "course_of",
    "demographics_allowed",
    "enrolment_dates",
    "line_safe",
    "nc_order",
    "overlaps",
    "sex_of",
    "teachers",
]

#: NC year -> grade, by position: Year N is grade N (two digits, as the CEDS vocabulary
#: that OneRoster names by default writes it), Reception (the year before Year 1) is KG,
#: the nursery years before it PK and PR. Position, not age: a Year 7 pupil is a year
#: younger than a US seventh-grader.
CEDS_GRADES: Mapping[str, str] = {
    "N1": "PR",
    "N2": "PK",
    "R": "KG",
    **{str(n): f"{n:02d}" for n in range(1, 14)},
}

_NC_ORDER = {code: i for i, code in enumerate(CEDS_GRADES)}

REGISTRATION_COURSE_KEY = "course:registration"

# Line breaks (every kind str.splitlines knows) and the other control characters a CSV
# field must not carry; tab is allowed.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


class Issues:
    """Collects the record errors of one export (``format`` names it in messages)."""

    def __init__(self, format_title: str) -> None:
        self.format = format_title
        self.errors: list[RecordError] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, code: str, origin: Origin, *, field: str | None = None, what: str = "") -> None:
        """Report ``code`` for the record ``origin`` names (once per record and field);
        ``what`` fills the template's ``{what}`` (a field's description)."""
        once = (code, origin.label, field or "")
        if once in self._seen:  # a value used in two files is reported once
            return
        self._seen.add(once)
        self.errors.append(
            make_error(
                code,
                dataset=origin.dataset,
                mis=origin.mis,
                mis_id=origin.mis_id,
                label=origin.label,
                field=field,
                format=self.format,
                what=what,
            )
        )


def line_safe(
    value: str | None, issues: Issues, origin: Origin, field: str, what: str
) -> str | None:
    """``value`` with every line break and control character replaced by a space (both
    formats forbid line breaks in a field); each replacement is reported (MB7030)."""
    if value is None or not _UNSAFE.search(value):
        return value
    issues.add("MB7030", origin, field=field, what=what)
    return _UNSAFE.sub(" ", value)


def nc_order(code: str) -> int:
    """Sort key of an NC year code (nursery first, Year 13 last, unknown codes after)."""
    return _NC_ORDER.get(code, len(_NC_ORDER))


def sex_of(gender: str | None) -> str | None:
    """``male`` or ``female`` for the configured genders Male and Female (and M, F);
    any other gender is not a sex and is left blank, never guessed."""
    key = fold(gender)
    if key in ("male", "m"):
        return "male"
    if key in ("female", "f"):
        return "female"
    return None


def contact_email(person: Person) -> str | None:
    """The address the school contacts the person at: the account's email preference
    (Personal or Work) first, the other one if that is missing."""
    if person.email_preference is EmailPreference.WORK:
        return person.work_email or person.personal_email
    return person.personal_email or person.work_email


def demographics_allowed(profile: str | Profile) -> bool:
    """Whether birth dates and sex may leave the school in this export: only when the
    validation profile is one that requires pupils' dates of birth (``roster``). A
    profile that does not need them (``account-sync``) does not pass them on."""
    return "date_of_birth" in get_profile(profile).students


def overlaps(start: date | None, end: date | None, session: Session) -> bool:
    """Whether dates ``start``..``end`` (inclusive; None is open) meet ``session``."""
    return (start is None or start <= session.end) and (end is None or end >= session.start)


def class_sessions(roster: Roster) -> dict[str, tuple[Session, ...]]:
    """Each class's academic sessions: the years its memberships fall in, in date order.
    A class with none is missing from the result (the caller reports it)."""
    ordered = sorted(roster.sessions, key=lambda s: (s.start, s.end, s.key))
    found: dict[str, dict[str, Session]] = defaultdict(dict)
    for e in roster.enrolments:
        for session in ordered:
            if overlaps(e.start, e.end, session):
                found[e.class_key][session.key] = session
    return {
        key: tuple(sorted(by_key.values(), key=lambda s: (s.start, s.end, s.key)))
        for key, by_key in found.items()
    }


def enrolment_dates(
    enrolment: Enrolment, sessions: Iterable[Session]
) -> tuple[date | None, date | None] | None:
    """The enrolment's dates within its class's sessions (a date outside them is moved
    to their edge, as an enrolment must lie within its class's period), or None when it
    meets none of them."""
    spans = [s for s in sessions if overlaps(enrolment.start, enrolment.end, s)]
    if not spans:
        return None
    first = min(s.start for s in spans)
    last = max(s.end for s in spans)
    start = enrolment.start if enrolment.start is None else max(enrolment.start, first)
    end = enrolment.end if enrolment.end is None else min(enrolment.end, last)
    return start, end


def teachers(roster: Roster) -> set[str]:
    """The staff who teach: a membership in a class or registration group."""
    return {e.person_key for e in roster.enrolments if e.role is Role.STAFF}


def course_of(group: RosterClass) -> tuple[str, str] | None:
    """The ``(key, title)`` of the course a class belongs to: one course per subject
    (subjects compare case-folded); registration groups share one course,
    "Registration". None for a teaching class without a subject."""
    if group.kind is GroupKind.REGISTRATION:
        return REGISTRATION_COURSE_KEY, "Registration"
    subject = fold(group.subject)
    if not subject or group.subject is None:
        return None
    return f"course:subject:{subject}", group.subject.strip()
