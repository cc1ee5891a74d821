"""The normalised roster model: what every MIS is turned into.

Every class is frozen and slotted. Plugins never build these directly: they emit
*source records* (:mod:`misbridge.source`) and the shared normaliser turns those into
the model, so that one implementation of each field rule serves every MIS.

Field names are ours; the fields are those a student-sync product reads from a UK MIS
(``docs/normalisation.md`` gives the rules that fill them).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date

from attrs import field, frozen

__all__ = [
    "AcademicYear",
    "Address",
    "Assessment",
    "Dataset",
    "Deletion",
    "EmailPreference",
    "ExamResult",
    "Group",
    "GroupKind",
    "Membership",
    "Photo",
    "Role",
    "School",
    "SenStatus",
    "StaffMember",
    "Student",
    "YearGroup",
]


class Dataset(enum.StrEnum):
    """The datasets an extract is made of, in the order a sync applies them."""

    YEARS = "years"
    STAFF = "staff"
    STUDENTS = "students"
    GROUPS = "groups"
    PHOTOS = "photos"
    EXAM_RESULTS = "exam_results"
    ASSESSMENTS = "assessments"


class GroupKind(enum.StrEnum):
    CLASS = "class"
    REGISTRATION = "registration"
    HOUSE = "house"
    YEAR = "year"


class Role(enum.StrEnum):
    STUDENT = "student"
    STAFF = "staff"


class EmailPreference(enum.StrEnum):
    """Which email address a pupil's account uses (its "email type communication preference")."""

    PERSONAL = "Personal"
    WORK = "Work"


@frozen
class School:
    mis_id: str
    name: str
    urn: str | None = None
    laestab: str | None = None


@frozen
class AcademicYear:
    mis_id: str
    name: str
    start: date
    end: date


@frozen
class YearGroup:
    """A school year group (NC year). ``code`` is the NC year: "R", "1" ... "13"."""

    mis_id: str
    name: str
    code: str
    start: date | None = None
    end: date | None = None


@frozen
class Address:
    lines: tuple[str, ...]
    postcode: str | None = None


@frozen
class SenStatus:
    """SEN provision: ``code`` is N, K or E, with the dates the status applied."""

    code: str
    start: date | None = None
    end: date | None = None


@frozen
class Student:
    mis_id: str
    admission_number: str | None = None
    upn: str | None = None
    legal_forename: str | None = None
    legal_surname: str | None = None
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    gender: str | None = None
    date_of_birth: date | None = None
    ethnicity: str | None = None
    eal: bool | None = None
    fsm: bool | None = None
    pupil_premium: bool | None = None
    service_child: bool | None = None
    sen: tuple[SenStatus, ...] = ()
    year_group: str | None = None
    admission_date: date | None = None
    leaving_date: date | None = None
    home_address: Address | None = None
    home_telephone: str | None = None
    mobile_telephone: str | None = None
    personal_email: str | None = None
    work_email: str | None = None
    email_preference: EmailPreference = EmailPreference.PERSONAL
    username: str | None = None

    @property
    def forename(self) -> str | None:
        """The name the school uses: preferred, else legal."""
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str | None:
        return self.preferred_surname or self.legal_surname


@frozen
class StaffMember:
    mis_id: str
    title: str | None = None
    forename: str | None = None
    surname: str | None = None
    gender: str | None = None
    work_email: str | None = None
    staff_code: str | None = None


@frozen
class Group:
    """A class (teaching group, with its subject), registration group or house."""

    mis_id: str
    name: str
    kind: GroupKind
    subject: str | None = None
    code: str | None = None


@frozen
class Membership:
    """A dated link between a person and a group (or a year group, kind YEAR)."""

    group_mis_id: str
    group_kind: GroupKind
    person_mis_id: str
    role: Role
    start: date | None = None
    end: date | None = None


@frozen
class Photo:
    person_mis_id: str
    role: Role
    media_type: str
    data: bytes = field(repr=lambda b: f"<{len(b)} bytes>")
    sha256: str = field()

    @sha256.default
    def _hash(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@frozen
class ExamResult:
    """A GCSE or GCE actual result."""

    student_mis_id: str
    series: str
    qualification: str
    subject: str
    grade: str
    result_date: date | None = None


@frozen
class Assessment:
    """One termly assessment grade: a pupil's value in one marksheet column.

    ``aspect`` is the column (SIMS: the aspect) as the MIS names it ("Maths Working At");
    ``grade_type`` says what the value is ("working-at", "predicted", "expected",
    "target", or the school's own word); ``term`` is the term or result set it belongs
    to ("2026/2027 Autumn"); ``result`` is the value as the school records it ("6+",
    "Secure", "87").
    """

    student_mis_id: str
    aspect: str
    result: str
    grade_type: str | None = None
    subject: str | None = None
    term: str | None = None
    result_date: date | None = None


#: The record types a :class:`Deletion` may name, as their model class names.
DELETABLE = frozenset({"AcademicYear", "YearGroup", "StaffMember", "Student", "Group"})


@frozen
class Deletion:
    """A record the vendor names as deleted (Wonde's ``/deletions``, Arbor's change log).

    ``record`` is the model class name ("Student", "StaffMember", "Group", ...);
    ``group_kind`` says which id space a group's MIS id belongs to. A sync disables the
    record it names, whether or not the read was full: it is the vendor's own statement.
    """

    record: str
    mis_id: str
    group_kind: GroupKind | None = None


#: Every model class, by the dataset that carries it.
DATASET_TYPES: dict[Dataset, tuple[type, ...]] = {
    Dataset.YEARS: (AcademicYear, YearGroup),
    Dataset.STAFF: (StaffMember,),
    Dataset.STUDENTS: (Student,),
    Dataset.GROUPS: (Group, Membership),
    Dataset.PHOTOS: (Photo,),
    Dataset.EXAM_RESULTS: (ExamResult,),
    Dataset.ASSESSMENTS: (Assessment,),
}
