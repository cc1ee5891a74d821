"""Model record -> the simplest source record that normalises back to it.

Used to check idempotence (normalising a rebuilt record changes nothing) and handy
for tests and simulators that start from model data.
"""

from __future__ import annotations

from functools import singledispatch

from misbridge.model import (
    AcademicYear,
    Assessment,
    EmailPreference,
    ExamResult,
    Group,
    Membership,
    Photo,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.source import (
    SourceAcademicYear,
    SourceAddress,
    SourceAssessment,
    SourceEmail,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceRecord,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)

__all__ = ["to_source"]


@singledispatch
def to_source(record: object) -> SourceRecord:
    """The source record that :class:`~misbridge.normalise.Normaliser` turns into ``record``
    (with the username policy that produced it)."""
    raise TypeError(f"not a model record: {type(record).__name__}")


@to_source.register
def _(record: Student) -> SourceStudent:
    emails: list[SourceEmail] = []
    work_first = record.email_preference is EmailPreference.WORK
    if record.personal_email:
        emails.append(SourceEmail("H", record.personal_email, primary=not work_first))
    if record.work_email:
        emails.append(SourceEmail("W", record.work_email, primary=work_first))
    phones = []
    if record.home_telephone:
        phones.append(SourceTelephone("H", record.home_telephone))
    if record.mobile_telephone:
        phones.append(SourceTelephone("M", record.mobile_telephone))
    address = record.home_address
    return SourceStudent(
        mis_id=record.mis_id,
        admission_number=record.admission_number,
        upn=record.upn,
        legal_forename=record.legal_forename,
        legal_surname=record.legal_surname,
        preferred_forename=record.preferred_forename,
        preferred_surname=record.preferred_surname,
        gender=record.gender,
        date_of_birth=record.date_of_birth,
        ethnicity=record.ethnicity,
        eal=record.eal,
        fsm=record.fsm,
        pupil_premium=record.pupil_premium,
        service_child=record.service_child,
        sen=tuple(SourceSen(s.code, s.start, s.end) for s in record.sen),
        year_group=record.year_group,
        admission_date=record.admission_date,
        leaving_date=record.leaving_date,
        addresses=(SourceAddress("H", address.lines, address.postcode),) if address else (),
        telephones=tuple(phones),
        emails=tuple(emails),
        directory_username=record.username,
    )


@to_source.register
def _(record: StaffMember) -> SourceStaff:
    emails = (SourceEmail("W", record.work_email, primary=True),) if record.work_email else ()
    return SourceStaff(
        mis_id=record.mis_id,
        title=record.title,
        forename=record.forename,
        surname=record.surname,
        gender=record.gender,
        emails=emails,
        staff_code=record.staff_code,
    )


@to_source.register
def _(record: Group) -> SourceGroup:
    return SourceGroup(record.mis_id, record.name, record.kind, record.subject, record.code)


@to_source.register
def _(record: Membership) -> SourceMembership:
    return SourceMembership(
        record.group_mis_id,
        record.group_kind,
        record.person_mis_id,
        record.role,
        record.start,
        record.end,
    )


@to_source.register
def _(record: AcademicYear) -> SourceAcademicYear:
    return SourceAcademicYear(record.mis_id, record.name, record.start, record.end)


@to_source.register
def _(record: YearGroup) -> SourceYearGroup:
    return SourceYearGroup(record.mis_id, record.name, record.code, record.start, record.end)


@to_source.register
def _(record: Photo) -> SourcePhoto:
    return SourcePhoto(record.person_mis_id, record.role, record.data, record.media_type)


@to_source.register
def _(record: ExamResult) -> SourceExamResult:
    return SourceExamResult(
        record.student_mis_id,
        record.series,
        record.qualification,
        record.subject,
        record.grade,
        record.result_date,
    )


@to_source.register
def _(record: Assessment) -> SourceAssessment:
    return SourceAssessment(
        record.student_mis_id,
        record.aspect,
        record.result,
        record.grade_type,
        record.subject,
        record.term,
        record.result_date,
    )
