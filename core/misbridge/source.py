"""Source records: what a plugin emits, before any business rule is applied.

A plugin maps its vendor's wire format onto these types and nothing more. Field
names are canonical, values are raw:

- dates are whatever the vendor sent (``"2012-03-04"``, ``"2012-03-04T00:00:00"``,
  ``"18/03/2024 00:00:00"``, a Wonde/Carbon ``{"date": ...}`` object, an Arbor
  ``{"entityType": "date", "date": ...}`` object) or a :class:`datetime.date`;
- flags are ``"Yes"``/``"No"``, ``"True"``/``"False"``, ``"Y"``/``"N"``, booleans or ``None``;
- codes are the vendor's strings (``"Year  7"``, ``"M"``, ``"WBRI"``);
- addresses, telephones and emails are *all* of them, with their type ("H", "M",
  "W"), Primary/Main flags and start dates, in the vendor's order.

The shared normaliser (:mod:`misbridge.normalise`) decides everything else: which
address is the home address, which telephone is the mobile, what the username is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeAlias

from attrs import field, frozen

from misbridge.model import Dataset, GroupKind, Role

__all__ = [
    "RawDate",
    "RawFlag",
    "SourceAcademicYear",
    "SourceAddress",
    "SourceAssessment",
    "SourceDeletion",
    "SourceEmail",
    "SourceExamResult",
    "SourceGroup",
    "SourceMembership",
    "SourcePhoto",
    "SourceRecord",
    "SourceSchool",
    "SourceSen",
    "SourceStaff",
    "SourceStudent",
    "SourceTelephone",
    "SourceYearGroup",
]

RawDate: TypeAlias = str | date | datetime | Mapping[str, Any] | None
RawFlag: TypeAlias = str | bool | int | None


@frozen
class SourceAddress:
    type: str | None
    lines: tuple[str, ...] = ()
    postcode: str | None = None
    start: RawDate = None


@frozen
class SourceTelephone:
    type: str | None
    number: str
    primary: bool = False
    main: bool = False


@frozen
class SourceEmail:
    type: str | None
    address: str
    primary: bool = False
    main: bool = False


@frozen
class SourceSen:
    code: str | None
    start: RawDate = None
    end: RawDate = None


@frozen
class SourceAcademicYear:
    mis_id: str
    name: str | None
    start: RawDate
    end: RawDate


@frozen
class SourceYearGroup:
    mis_id: str
    name: str | None
    code: str | None = None
    start: RawDate = None
    end: RawDate = None


@frozen
class SourceStudent:
    mis_id: str
    admission_number: str | None = None
    upn: str | None = None
    legal_forename: str | None = None
    legal_surname: str | None = None
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    gender: str | None = None
    date_of_birth: RawDate = None
    ethnicity: str | None = None
    eal: RawFlag = None
    fsm: RawFlag = None
    pupil_premium: RawFlag = None
    service_child: RawFlag = None
    sen: tuple[SourceSen, ...] = ()
    year_group: str | None = None
    admission_date: RawDate = None
    leaving_date: RawDate = None
    addresses: tuple[SourceAddress, ...] = ()
    telephones: tuple[SourceTelephone, ...] = ()
    emails: tuple[SourceEmail, ...] = ()
    directory_username: str | None = None


@frozen
class SourceStaff:
    mis_id: str
    title: str | None = None
    forename: str | None = None
    surname: str | None = None
    gender: str | None = None
    emails: tuple[SourceEmail, ...] = ()
    staff_code: str | None = None


@frozen
class SourceGroup:
    mis_id: str
    name: str | None
    kind: GroupKind
    subject: str | None = None
    code: str | None = None


@frozen
class SourceMembership:
    group_mis_id: str
    group_kind: GroupKind
    person_mis_id: str
    role: Role
    start: RawDate = None
    end: RawDate = None


@frozen
class SourcePhoto:
    person_mis_id: str
    role: Role
    data: bytes = field(repr=lambda b: f"<{len(b)} bytes>")
    media_type: str | None = None


@frozen
class SourceExamResult:
    student_mis_id: str
    series: str | None
    qualification: str | None
    subject: str | None
    grade: str | None
    result_date: RawDate = None


@frozen
class SourceAssessment:
    """One marksheet cell: a pupil's value for one aspect (column), raw. ``grade_type``
    is the school's or vendor's word ("Working At", "Predicted", "FFT Target"); the
    normaliser maps the usual spellings onto "working-at", "predicted", "expected" and
    "target" and keeps any other word as given."""

    student_mis_id: str
    aspect: str | None
    result: str | None
    grade_type: str | None = None
    subject: str | None = None
    term: str | None = None
    result_date: RawDate = None


@frozen
class SourceDeletion:
    """A record the vendor says was deleted: ``record`` is the model class name it would
    have become ("Student", "StaffMember", "Group", "YearGroup", "AcademicYear") and
    ``mis_id`` its MIS id; ``group_kind`` is required for a "Group". A plugin yields these
    in the dataset's stream, typically from a delta read."""

    record: str
    mis_id: str
    group_kind: GroupKind | None = None
    deleted_at: RawDate = None


SourceRecord: TypeAlias = (
    SourceAcademicYear
    | SourceYearGroup
    | SourceStaff
    | SourceStudent
    | SourceGroup
    | SourceMembership
    | SourcePhoto
    | SourceExamResult
    | SourceAssessment
    | SourceDeletion
)


@frozen
class SourceSchool:
    """A whole school as source records: what the sample-school generator makes and
    what every simulator serves."""

    mis_id: str
    name: str
    urn: str | None = None
    laestab: str | None = None
    academic_years: tuple[SourceAcademicYear, ...] = ()
    year_groups: tuple[SourceYearGroup, ...] = ()
    staff: tuple[SourceStaff, ...] = ()
    students: tuple[SourceStudent, ...] = ()
    groups: tuple[SourceGroup, ...] = ()
    memberships: tuple[SourceMembership, ...] = ()
    photos: tuple[SourcePhoto, ...] = ()
    exam_results: tuple[SourceExamResult, ...] = ()
    assessments: tuple[SourceAssessment, ...] = ()

    def records(self, dataset: Dataset) -> tuple[SourceRecord, ...]:
        """All source records of one dataset, in a stable order."""
        if dataset is Dataset.YEARS:
            return (*self.academic_years, *self.year_groups)
        if dataset is Dataset.STAFF:
            return self.staff
        if dataset is Dataset.STUDENTS:
            return self.students
        if dataset is Dataset.GROUPS:
            return (*self.groups, *self.memberships)
        if dataset is Dataset.PHOTOS:
            return self.photos
        if dataset is Dataset.ASSESSMENTS:
            return self.assessments
        return self.exam_results
