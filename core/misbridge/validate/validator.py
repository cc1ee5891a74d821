"""Model records -> every problem each one has, as :class:`RecordError` values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from misbridge.errorcodes import record_error
from misbridge.errors import RecordError
from misbridge.labels import record_identity
from misbridge.model import (
    AcademicYear,
    Assessment,
    Dataset,
    Membership,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.result import ModelRecord
from misbridge.validate.codesets import SEN_CODES, ethnicity_codes
from misbridge.validate.profiles import Profile, get_profile
from misbridge.validate.upn import upn_problem

__all__ = ["BatchChecker", "Validator", "email_ok"]


def email_ok(address: str) -> bool:
    """name@domain.tld with nothing odd: enough to catch typing slips, never a lookup."""
    local, at, domain = address.partition("@")
    return (
        bool(at and local)
        and "." in domain[1:-1]
        and domain[0] != "."
        and domain[-1] != "."
        and "@" not in domain
        and " " not in address
        # isprintable() is False for tabs, newlines, no-break and other odd spaces
        and address.isprintable()
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


class Validator:
    """Checks model records against a profile (``"roster"``, ``"account-sync"`` or a
    :class:`Profile`) and the DfE rules; ``validate`` returns all errors of a record."""

    def __init__(
        self,
        profile: str | Profile = "roster",
        *,
        mis: str | None = None,
        mis_title: str | None = None,
        today: date | None = None,
        age_range: tuple[int, int] = (2, 25),
    ) -> None:
        self.profile = get_profile(profile)
        self.mis = mis
        self._title = mis_title
        self.today = today or date.today()
        self.age_range = age_range
        low, high = age_range
        # Bounds on the date of birth, computed once: age >= low and age <= high.
        self._latest_dob = _years_before(self.today, low)
        self._earliest_dob = _years_before(self.today, high + 1) + timedelta(days=1)
        self._ethnicity = ethnicity_codes().all
        need = self.profile.students
        self._need_forename = "forename" in need
        self._need_surname = "surname" in need
        self._need_dob = "date_of_birth" in need
        self._need_email = "email" in need
        self._need_upn = "upn" in need
        self._staff_need = self.profile.staff

    def error(
        self, code: str, record: object, dataset: str, field: str | None = None, **details: object
    ) -> RecordError:
        return record_error(
            code,
            record,
            dataset=dataset,
            mis=self.mis,
            title=self._title,
            field=field,
            severity=None,
            **details,
        )

    def validate(self, dataset: Dataset | str, record: ModelRecord) -> list[RecordError]:
        kind = type(record)
        if kind is Student:
            return self._student(record, dataset)  # type: ignore[arg-type]
        if kind is StaffMember:
            return self._staff(record, str(dataset))  # type: ignore[arg-type]
        if kind is Membership or kind is AcademicYear or kind is YearGroup:
            start, end = record.start, record.end  # type: ignore[union-attr]
            if start is not None and end is not None and start > end:
                what = {Membership: "membership", AcademicYear: "academic year"}.get(
                    kind, "year group"
                )
                return [self.error("MB3020", record, str(dataset), "start", what=what)]
        return []

    def _student(self, s: Student, dataset: str) -> list[RecordError]:
        # The hot path: the common, valid record runs through plain comparisons only;
        # the labels and messages are built only for an error.
        errors: list[RecordError] = []
        if self._need_forename and not (s.preferred_forename or s.legal_forename):
            errors.append(self.error("MB2001", s, dataset))
        if self._need_surname and not (s.preferred_surname or s.legal_surname):
            errors.append(self.error("MB2002", s, dataset))
        dob = s.date_of_birth
        if dob is None:
            if self._need_dob:
                errors.append(self.error("MB2004", s, dataset))
        elif dob < self._earliest_dob or dob > self._latest_dob:
            low, high = self.age_range
            errors.append(self.error("MB3010", s, dataset, low=low, high=high))
        if s.upn is None:
            if self._need_upn:
                errors.append(self.error("MB1500", s, dataset))
        else:
            problem = upn_problem(s.upn)
            if problem is not None:
                errors.append(self.error(problem, s, dataset))
        if s.ethnicity is not None and s.ethnicity not in self._ethnicity:
            errors.append(self.error("MB4010", s, dataset))
        for sen in s.sen:
            if sen.code not in SEN_CODES:
                errors.append(self.error("MB4020", s, dataset))
            if sen.start is not None and sen.end is not None and sen.start > sen.end:
                errors.append(self.error("MB3020", s, dataset, "sen", what="SEN provision"))
        if s.admission_date and s.leaving_date and s.admission_date > s.leaving_date:
            errors.append(
                self.error("MB3020", s, dataset, "admission_date", what="enrolment (admission)")
            )
        personal, work = s.personal_email, s.work_email
        if personal is None and work is None:
            if self._need_email:
                errors.append(self.error("MB5001", s, dataset))
        else:
            if personal is not None and not email_ok(personal):
                errors.append(
                    self.error("MB5010", s, dataset, "personal_email", what="personal email")
                )
            if work is not None and not email_ok(work):
                errors.append(self.error("MB5010", s, dataset, "work_email", what="work email"))
        return errors

    def _staff(self, s: StaffMember, dataset: str) -> list[RecordError]:
        errors: list[RecordError] = []
        need = self._staff_need
        if "forename" in need and not s.forename:
            errors.append(self.error("MB2001", s, dataset))
        if "surname" in need and not s.surname:
            errors.append(self.error("MB2002", s, dataset))
        if s.work_email is None:
            if "email" in need:
                errors.append(self.error("MB5001", s, dataset))
        elif not email_ok(s.work_email):
            errors.append(self.error("MB5010", s, dataset, "work_email", what="work email"))
        return errors

    def check_batch(
        self, dataset: Dataset | str, records: Iterable[ModelRecord]
    ) -> list[RecordError]:
        """Cross-record checks over one extract's records of a dataset: duplicate MIS ids
        (MB1010), duplicate UPNs (MB1520) and repeated assessment values (MB6020). Each
        later duplicate is reported, naming the first holder."""
        checker = BatchChecker(self)
        errors: list[RecordError] = []
        for record in records:
            errors.extend(checker.add(dataset, record))
        return errors


class BatchChecker:
    """The streaming form of :meth:`Validator.check_batch`: feed records one by one."""

    def __init__(self, validator: Validator) -> None:
        self._validator = validator
        self._ids: dict[tuple[str, type, str], None] = {}
        self._upns: dict[str, tuple[str, str]] = {}
        self._grades: set[tuple[str | None, ...]] = set()

    def add(self, dataset: Dataset | str, record: ModelRecord) -> list[RecordError]:
        kind = type(record)
        if kind is Membership:  # most of a school, and without an id of its own
            return []
        mis_id = getattr(record, "mis_id", None)
        if mis_id is None:
            if kind is Assessment:
                return self._assessment(str(dataset), record)  # type: ignore[arg-type]
            return []
        name = str(dataset)
        key = (name, kind, mis_id)
        if key in self._ids:
            return [self._validator.error("MB1010", record, name)]
        self._ids[key] = None
        if isinstance(record, Student) and record.upn:
            holder = self._upns.setdefault(record.upn, (mis_id, record_identity(record)[1]))
            if holder[0] != mis_id:
                return [self._validator.error("MB1520", record, name, other=holder[1])]
        return []

    def _assessment(self, dataset: str, record: Assessment) -> list[RecordError]:
        # What a store tells one grade from another: the pupil, the column and the term.
        key = (
            record.student_mis_id,
            record.subject,
            record.aspect,
            record.grade_type,
            record.term,
        )
        if key in self._grades:
            return [self._validator.error("MB6020", record, dataset, aspect=record.aspect)]
        self._grades.add(key)
        return []
