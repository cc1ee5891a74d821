"""What an export is made from: the school's enabled roster, whatever its source.

A :class:`Roster` is built either from the sync store (:mod:`misbridge.export.from_store`)
or from an extract folder (:mod:`misbridge.export.from_extract`); the format writers
(:mod:`misbridge.export.oneroster`, :mod:`misbridge.export.sds`) only ever see this.

Every record carries a ``key``: the text its exported identifier is derived from,
``uuid5(roster.namespace, key)``. From the store the namespace is the store's id and the
key names the record's internal id (``"student:<internal id>"``), so an identifier
survives a change of MIS; from an extract folder the namespace is derived from the MIS
name and the key names the MIS id, so identifiers are stable between extracts of one
MIS only. ``origin`` names the record in an error report (identifiers only, never a
name or a date of birth).
"""

from __future__ import annotations

import uuid
from datetime import date

from attrs import evolve, field, frozen

from misbridge.model import EmailPreference, GroupKind, Role

__all__ = [
    "EXTRACT_NAMESPACE",
    "ORG_KEY",
    "Enrolment",
    "Origin",
    "Person",
    "Roster",
    "RosterClass",
    "Session",
]

#: The namespace of extract-folder identifiers: uuid5(this, "extract:<mis>").
EXTRACT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "misbridge:export:extract")

#: The key of the school's own org. The store holds one school today; when it holds
#: several, the key will name the school (``"org:<school key>"``).
ORG_KEY = "org:school"


@frozen
class Origin:
    """Where a record came from, for error messages: identifiers only."""

    dataset: str  # "students", "staff", "groups", "years"
    mis: str | None
    mis_id: str | None
    label: str  # "admission number 003001", "staff code ABC1", "class 7x/Ma1 (MIS id C7Ma1)"


@frozen
class Session:
    """An academic year (OneRoster and SDS: an academic session of type schoolYear)."""

    key: str
    name: str
    start: date
    end: date  # the last day of the year (inclusive), as the MIS holds it
    origin: Origin


@frozen
class Person:
    """A student or a member of staff (staff hold only ``legal_*`` names)."""

    key: str
    role: Role
    origin: Origin
    legal_forename: str | None = None
    legal_surname: str | None = None
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    identifier: str | None = None  # admission number (students), staff code (staff)
    username: str | None = None  # the account's username (students only, today)
    email_preference: EmailPreference | None = None
    personal_email: str | None = None
    work_email: str | None = None
    year_group: str | None = None  # the NC year code ("R", "1" ... "13", "N1", "N2")
    date_of_birth: date | None = None
    gender: str | None = None

    @property
    def forename(self) -> str | None:
        """The name the school uses: preferred, else legal."""
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str | None:
        return self.preferred_surname or self.legal_surname


@frozen
class RosterClass:
    """A teaching class or a registration group (houses are not exported)."""

    key: str
    name: str
    kind: GroupKind
    origin: Origin
    subject: str | None = None
    code: str | None = None


@frozen
class Enrolment:
    """A dated membership of a person in a class or registration group."""

    key: str
    class_key: str
    person_key: str
    role: Role
    start: date | None = None
    end: date | None = None  # inclusive, as the MIS holds it


@frozen
class Roster:
    """The enabled roster of one school, ready to be written in any format."""

    namespace: uuid.UUID
    source: str  # what it was read from, for the export's summary (no personal data)
    sessions: tuple[Session, ...] = ()
    people: tuple[Person, ...] = ()
    classes: tuple[RosterClass, ...] = ()
    enrolments: tuple[Enrolment, ...] = ()
    # Every enrolment names its class, person and school: a school's export asks for the
    # same identifiers about a hundred thousand times, and uuid5 is most of its time.
    _ids: dict[str, str] = field(factory=dict, init=False, eq=False, repr=False)

    def sourced_id(self, key: str) -> str:
        """The exported identifier of the record with ``key`` (a UUID, as text)."""
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = str(uuid.uuid5(self.namespace, key))
        return found

    def with_academic_year(self, start: date, end: date) -> Roster:
        """This roster with the academic year ``start``..``end`` (last day) when it holds
        none: for an MIS that sends no academic years (Wonde), the school names the year
        instead of the export guessing one. A roster that holds years is returned as is.
        The year is titled "2026/2027" and its key depends on its dates only, so its
        identifier is the same on every export."""
        if self.sessions:
            return self
        if not start < end:
            raise ValueError(f"the academic year {start} to {end} ends before it starts")
        title = f"{start.year}/{end.year}"
        session = Session(
            key=f"academic_year:given:{start.isoformat()}:{end.isoformat()}",
            name=title,
            start=start,
            end=end,
            origin=Origin("years", None, None, f"academic year {title} (given for the export)"),
        )
        return evolve(self, sessions=(session,))
