"""Source records -> model records, applying the field rules once for every MIS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from misbridge.errors import RecordError, Severity
from misbridge.model import (
    DELETABLE,
    AcademicYear,
    Assessment,
    Dataset,
    Deletion,
    ExamResult,
    Group,
    Membership,
    Photo,
    StaffMember,
    YearGroup,
)
from misbridge.normalise.base import Normalised, _strip
from misbridge.normalise.dates import DateParseError, parse_date
from misbridge.normalise.grades import grade_type
from misbridge.normalise.media import sniff_media_type
from misbridge.normalise.rules import (
    YEAR_CODES,
    canonical_type,
    choose_flagged,
    clean_text,
    year_group_code,
)
from misbridge.normalise.students import StudentRules
from misbridge.source import (
    SourceAcademicYear,
    SourceAssessment,
    SourceDeletion,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceRecord,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)

__all__ = ["Normalised", "Normaliser"]

_YEAR = YEAR_CODES


class Normaliser(StudentRules):
    """Turns one MIS's source records into model records.

    ``normalise`` returns ``(record, errors)``: ``record`` is ``None`` only when no model
    record can be built (a mandatory value is missing or unreadable); otherwise the
    errors name the fields that had to be left out.
    """

    def _handlers(self) -> dict[type, Callable[[Any, str], Normalised]]:
        return {
            SourceStudent: self._student,
            SourceStaff: self._staff,
            SourceGroup: self._group,
            SourceMembership: self._membership,
            SourceAcademicYear: self._academic_year,
            SourceYearGroup: self._year_group,
            SourcePhoto: self._photo,
            SourceExamResult: self._exam_result,
            SourceAssessment: self._assessment,
            SourceDeletion: self._deletion,
        }

    def normalise(self, dataset: Dataset | str, record: SourceRecord) -> Normalised:
        handler = self._dispatch.get(type(record))
        if handler is None:
            raise TypeError(f"not a source record: {type(record).__name__}")
        return handler(record, str(dataset))

    # -- staff ---------------------------------------------------------------------

    def _staff(self, r: SourceStaff, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "staff member")
        errors: list[RecordError] = []
        emails = [e for e in r.emails if e.address and e.address.strip()]
        work = [e for e in emails if canonical_type(e.type) == "W"]
        chosen = choose_flagged(work or emails)
        staff = StaffMember(
            mis_id=mis_id,
            title=clean_text(r.title),
            forename=clean_text(r.forename),
            surname=clean_text(r.surname),
            gender=self._gender(r.gender, r, dataset, errors) if r.gender is not None else None,
            work_email=chosen.address.strip() if chosen else None,
            staff_code=_strip(r.staff_code),
        )
        return staff, errors

    # -- groups, years, photos, exam results --------------------------------------

    def _group(self, r: SourceGroup, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "group")
        name = clean_text(r.name)
        if name is None:
            return None, [self._error("MB2003", r, dataset, "name", what="name")]
        group = Group(
            mis_id=mis_id,
            name=name,
            kind=r.kind,
            subject=clean_text(r.subject),
            code=clean_text(r.code),
        )
        return group, []

    def _membership(self, r: SourceMembership, dataset: str) -> Normalised:
        # A school has fifteen memberships a pupil: _strip and _date's own fast paths,
        # written out here, are a measurable share of an extract.
        group, person = r.group_mis_id, r.person_mis_id
        group_id = group.strip() or None if group else None
        person_id = person.strip() or None if person else None
        if group_id is None or person_id is None:
            return self._no_id(r, dataset, "group membership")
        errors: list[RecordError] = []
        start, end = r.start, r.end
        if start is not None and type(start) is not date:
            start = self._date(start, r, dataset, "start", "membership start date", errors)
        if end is not None and type(end) is not date:
            end = self._date(end, r, dataset, "end", "membership end date", errors)
        return Membership(group_id, r.group_kind, person_id, r.role, start, end), errors

    def _deletion(self, r: SourceDeletion, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "deleted record")
        if r.record not in DELETABLE or (r.record == "Group") != (r.group_kind is not None):
            # A plugin bug, not a data problem: say so loudly rather than guess.
            raise TypeError(
                f"a deletion must name one of {sorted(DELETABLE)} (with group_kind for a "
                f"Group only), not {r.record!r}"
            )
        return Deletion(r.record, mis_id, r.group_kind), []

    def _required_date(
        self, value: object, r: object, dataset: str, field: str, what: str
    ) -> date | RecordError:
        try:
            parsed = parse_date(value)
        except DateParseError:
            parsed = None
        if parsed is None:
            return self._error("MB3002", r, dataset, field, what=what)
        return parsed

    def _academic_year(self, r: SourceAcademicYear, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "academic year")
        errors: list[RecordError] = []
        name = clean_text(r.name)
        if name is None:
            errors.append(self._error("MB2003", r, dataset, "name", what="name"))
        start = self._required_date(r.start, r, dataset, "start", "academic year start date")
        end = self._required_date(r.end, r, dataset, "end", "academic year end date")
        errors.extend(x for x in (start, end) if isinstance(x, RecordError))
        if errors or name is None or not isinstance(start, date) or not isinstance(end, date):
            return None, errors
        return AcademicYear(mis_id=mis_id, name=name, start=start, end=end), []

    def _year_group(self, r: SourceYearGroup, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "year group")
        name = clean_text(r.name)
        code = year_group_code(r.code) if r.code and r.code.strip() else year_group_code(name)
        errors: list[RecordError] = []
        if name is None:
            errors.append(self._error("MB2003", r, dataset, "name", what="name"))
        if code is None:
            # Without its NC year a year group cannot be built: this one is an error.
            errors.append(self._error("MB4030", r, dataset, "code", Severity.ERROR))
        if name is None or code is None:
            return None, errors
        start = self._date(r.start, r, dataset, "start", "year group start date", errors)
        end = self._date(r.end, r, dataset, "end", "year group end date", errors)
        return YearGroup(mis_id=mis_id, name=name, code=code, start=start, end=end), errors

    def _photo(self, r: SourcePhoto, dataset: str) -> Normalised:
        person = _strip(r.person_mis_id)
        if person is None:
            return self._no_id(r, dataset, "photo")
        media_type = sniff_media_type(r.data)
        if media_type is None:
            return None, [self._error("MB6001", r, dataset)]
        return Photo(person_mis_id=person, role=r.role, media_type=media_type, data=r.data), []

    def _exam_result(self, r: SourceExamResult, dataset: str) -> Normalised:
        student = _strip(r.student_mis_id)
        if student is None:
            return self._no_id(r, dataset, "exam result")
        values = {
            "series": clean_text(r.series),
            "qualification": clean_text(r.qualification),
            "subject": clean_text(r.subject),
            "grade": clean_text(r.grade),
        }
        missing = [k for k, v in values.items() if v is None]
        if missing:
            return None, [self._error("MB2003", r, dataset, k, what=k) for k in missing]
        errors: list[RecordError] = []
        result_date = self._date(r.result_date, r, dataset, "result_date", "result date", errors)
        return (
            ExamResult(
                student_mis_id=student,
                series=values["series"] or "",
                qualification=values["qualification"] or "",
                subject=values["subject"] or "",
                grade=values["grade"] or "",
                result_date=result_date,
            ),
            errors,
        )

    def _assessment(self, r: SourceAssessment, dataset: str) -> Normalised:
        student = _strip(r.student_mis_id)
        if student is None:
            return self._no_id(r, dataset, "assessment result")
        aspect, result = clean_text(r.aspect), clean_text(r.result)
        if aspect is None or result is None:
            missing = [k for k, v in (("aspect", aspect), ("result", result)) if v is None]
            return None, [self._error("MB2003", r, dataset, k, what=k) for k in missing]
        errors: list[RecordError] = []
        when = self._date(r.result_date, r, dataset, "result_date", "assessment date", errors)
        return (
            Assessment(
                student_mis_id=student,
                aspect=aspect,
                result=result,
                grade_type=grade_type(r.grade_type),
                subject=clean_text(r.subject),
                term=clean_text(r.term),
                result_date=when,
            ),
            errors,
        )
