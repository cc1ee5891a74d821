"""Arbor rows -> source records: field names only, no business rule (DESIGN.md).

Every value goes through raw: dates as Arbor sends them (GraphQL strings or REST date
objects; the shared normaliser parses both), contact types as Arbor's words ("HOME",
"MOBILE", "WORK"), codes as Arbor's codes. Two things are Arbor's own and are mapped
here because they are facts of its data model, not choices:

- Arbor keeps contacts in a ranked order (``dataOrder``, ``telephoneNumberRanking``),
  with no Primary/Main flags: the first-ranked contact is the person's primary one;
- the four student flags are eligibility records with dates: a flag is set when a
  record with its code has not ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from misbridge.plugin import (
    DateParseError,
    GroupKind,
    Role,
    SourceAcademicYear,
    SourceAddress,
    SourceEmail,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
    parse_date,
)
from misbridge_arbor.reader import ref_id
from misbridge_arbor.selection import Spec, merge_spec, path_spec, pluck
from misbridge_arbor.settings import ArborConfig

__all__ = [
    "GROUP_ENTITIES",
    "MEMBERSHIP_ENTITIES",
    "academic_year",
    "exam_result",
    "exam_spec",
    "group",
    "group_spec",
    "membership",
    "staff",
    "student",
    "student_spec",
    "year_group",
]

_PERSON: Spec = {
    "legalFirstName": None,
    "legalLastName": None,
    "preferredFirstName": None,
    "preferredLastName": None,
    "gender": {"code": None},
}
_EMAILS: Spec = {"emailAddress": None, "emailAddressType": None, "dataOrder": None}
_PHONES: Spec = {"number": None, "telephoneNumberType": None, "telephoneNumberRanking": None}

ACADEMIC_YEAR_SPEC: Spec = {
    "id": None,
    "academicYearName": None,
    "startDate": None,
    "endDate": None,
}
ACADEMIC_LEVEL_SPEC: Spec = {
    "id": None,
    "academicLevelName": None,
    "curriculumGrade": None,
    "academicYear": {"startDate": None, "endDate": None},
}
STAFF_SPEC: Spec = {
    "id": None,
    "timetableAbbreviation": None,
    "person": {**_PERSON, "title": {"code": None}},
    "emailAddresses": _EMAILS,
}


def student_spec(config: ArborConfig) -> Spec:
    spec: dict[str, Any] = {
        "id": None,
        "studentNumber": None,
        "upn": None,
        "mostRecentEntryDate": None,
        "leavingDate": None,
        "person": {**_PERSON, "dateOfBirth": None},
        "ethnicity": {"code": None},
        "displayAcademicLevel": {"curriculumGrade": None},
        "emailAddresses": _EMAILS,
        "telephoneNumbers": _PHONES,
        "postalAddressOccupancies": {
            "postalAddressType": None,
            "effectiveDate": None,
            "postalAddress": {
                "address1": None,
                "address2": None,
                "address3": None,
                "postalTown": None,
                "postalCode": None,
            },
        },
        "senStatusAssignments": {"senStatus": {"code": None}, "startDate": None, "endDate": None},
    }
    if config.eligibility_codes:
        spec["eligibilityRecords"] = {"eligibility": {"code": None}, "endDate": None}
    return spec


#: Group kind -> (entity, name property, code property).
GROUP_ENTITIES: dict[GroupKind, tuple[str, str, str | None]] = {
    GroupKind.REGISTRATION: ("RegistrationForm", "registrationFormName", "shortName"),
    GroupKind.HOUSE: ("House", "houseName", "shortName"),
    GroupKind.CLASS: ("TeachingGroup", "teachingGroupName", None),
}

#: (membership entity, group link, kind, role, person link)
MEMBERSHIP_ENTITIES: tuple[tuple[str, str, GroupKind, Role, str], ...] = (
    ("TeachingGroupMembership", "teachingGroup", GroupKind.CLASS, Role.STUDENT, "student"),
    ("AcademicLevelMembership", "academicLevel", GroupKind.YEAR, Role.STUDENT, "student"),
    (
        "RegistrationFormMembership",
        "registrationForm",
        GroupKind.REGISTRATION,
        Role.STUDENT,
        "student",
    ),
    ("HouseMembership", "house", GroupKind.HOUSE, Role.STUDENT, "student"),
    ("TeachingGroupTutor", "teachingGroup", GroupKind.CLASS, Role.STAFF, "staff"),
    ("AcademicLevelTutor", "academicLevel", GroupKind.YEAR, Role.STAFF, "staff"),
    ("RegistrationFormTutor", "registrationForm", GroupKind.REGISTRATION, Role.STAFF, "staff"),
    ("HouseTutor", "house", GroupKind.HOUSE, Role.STAFF, "staff"),
)


def group_spec(kind: GroupKind, config: ArborConfig) -> Spec:
    _, name, code = GROUP_ENTITIES[kind]
    spec: dict[str, Any] = {"id": None, name: None}
    if code:
        spec[code] = None
    if kind is GroupKind.CLASS:
        spec = merge_spec(spec, path_spec(config.class_subject_path))
    return spec


def membership_spec(group_link: str, person_link: str) -> Spec:
    return {
        group_link: {"id": None},
        person_link: {"id": None},
        "startDate": None,
        "endDate": None,
    }


def exam_spec(config: ArborConfig) -> Spec:
    return merge_spec(
        {"student": {"id": None}, "qualificationGrade": {"code": None}, "resultDatetime": None},
        path_spec(config.exam_subject_path),
        path_spec(config.exam_qualification_path),
        path_spec(config.exam_series_path),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _id(row: Mapping[str, Any]) -> str:
    return str(row["id"])


def academic_year(row: Mapping[str, Any]) -> SourceAcademicYear:
    return SourceAcademicYear(
        mis_id=_id(row),
        name=_text(row.get("academicYearName")),
        start=row.get("startDate"),
        end=row.get("endDate"),
    )


def year_group(row: Mapping[str, Any]) -> SourceYearGroup:
    # An academic level belongs to one academic year: its dates are that year's.
    year = row.get("academicYear") or {}
    return SourceYearGroup(
        mis_id=_id(row),
        name=_text(row.get("academicLevelName")),
        code=_text(row.get("curriculumGrade")),
        start=year.get("startDate"),
        end=year.get("endDate"),
    )


def _ranked(rows: Sequence[Mapping[str, Any]] | None, order: str) -> list[Mapping[str, Any]]:
    return sorted(rows or (), key=lambda r: (r.get(order) is None, r.get(order) or 0))


def _emails(rows: Sequence[Mapping[str, Any]] | None) -> tuple[SourceEmail, ...]:
    return tuple(
        SourceEmail(
            type=_text(r.get("emailAddressType")),
            address=str(r["emailAddress"]),
            primary=n == 0,
        )
        for n, r in enumerate(_ranked(rows, "dataOrder"))
        if r.get("emailAddress")
    )


def _phones(rows: Sequence[Mapping[str, Any]] | None) -> tuple[SourceTelephone, ...]:
    return tuple(
        SourceTelephone(
            type=_text(r.get("telephoneNumberType")), number=str(r["number"]), primary=n == 0
        )
        for n, r in enumerate(_ranked(rows, "telephoneNumberRanking"))
        if r.get("number")
    )


def _addresses(rows: Sequence[Mapping[str, Any]] | None) -> tuple[SourceAddress, ...]:
    out = []
    for row in rows or ():
        postal = row.get("postalAddress") or {}
        keys = ("address1", "address2", "address3", "postalTown")
        lines = tuple(str(postal[k]) for k in keys if postal.get(k))
        out.append(
            SourceAddress(
                type=_text(row.get("postalAddressType")),
                lines=lines,
                postcode=_text(postal.get("postalCode")),
                start=row.get("effectiveDate"),
            )
        )
    return tuple(out)


def _current(end: Any, today: date) -> bool:
    try:
        ended = parse_date(end)
    except DateParseError:
        return True  # an unreadable end date must not silently clear a flag
    return ended is None or ended >= today


def _flags(row: Mapping[str, Any], config: ArborConfig, today: date) -> dict[str, bool | None]:
    if not config.eligibility_codes:
        return {}
    held = {
        pluck(r, "eligibility.code")
        for r in row.get("eligibilityRecords") or ()
        if _current(r.get("endDate"), today)
    }
    return {flag: code in held for flag, code in config.eligibility_codes.items()}


def student(row: Mapping[str, Any], config: ArborConfig, today: date) -> SourceStudent:
    person = row.get("person") or {}
    return SourceStudent(
        mis_id=_id(row),
        admission_number=_text(row.get("studentNumber")),
        upn=_text(row.get("upn")),
        legal_forename=_text(person.get("legalFirstName")),
        legal_surname=_text(person.get("legalLastName")),
        preferred_forename=_text(person.get("preferredFirstName")),
        preferred_surname=_text(person.get("preferredLastName")),
        gender=_text(pluck(person, "gender.code")),
        date_of_birth=person.get("dateOfBirth"),
        ethnicity=_text(pluck(row, "ethnicity.code")),
        sen=tuple(
            SourceSen(
                code=_text(pluck(s, "senStatus.code")),
                start=s.get("startDate"),
                end=s.get("endDate"),
            )
            for s in row.get("senStatusAssignments") or ()
        ),
        year_group=_text(pluck(row, "displayAcademicLevel.curriculumGrade")),
        admission_date=row.get("mostRecentEntryDate"),
        leaving_date=row.get("leavingDate"),
        addresses=_addresses(row.get("postalAddressOccupancies")),
        telephones=_phones(row.get("telephoneNumbers")),
        emails=_emails(row.get("emailAddresses")),
        **_flags(row, config, today),  # type: ignore[arg-type]
    )


def staff(row: Mapping[str, Any]) -> SourceStaff:
    person = row.get("person") or {}
    return SourceStaff(
        mis_id=_id(row),
        title=_text(pluck(person, "title.code")),
        # Arbor fills the preferred names from the legal ones; they are the names in use.
        forename=_text(person.get("preferredFirstName") or person.get("legalFirstName")),
        surname=_text(person.get("preferredLastName") or person.get("legalLastName")),
        gender=_text(pluck(person, "gender.code")),
        emails=_emails(row.get("emailAddresses")),
        staff_code=_text(row.get("timetableAbbreviation")),
    )


def group(row: Mapping[str, Any], kind: GroupKind, config: ArborConfig) -> SourceGroup:
    _, name, code = GROUP_ENTITIES[kind]
    subject = pluck(row, config.class_subject_path) if kind is GroupKind.CLASS else None
    return SourceGroup(
        mis_id=_id(row),
        name=_text(row.get(name)),
        kind=kind,
        subject=_text(subject) if config.class_subject_path else None,
        code=_text(row.get(code)) if code else None,
    )


def membership(
    row: Mapping[str, Any], group_link: str, kind: GroupKind, role: Role, person_link: str
) -> SourceMembership | None:
    group_id, person_id = ref_id(row.get(group_link)), ref_id(row.get(person_link))
    if group_id is None or person_id is None:
        return None
    return SourceMembership(
        group_mis_id=group_id,
        group_kind=kind,
        person_mis_id=person_id,
        role=role,
        start=row.get("startDate"),
        end=row.get("endDate"),
    )


def exam_result(row: Mapping[str, Any], config: ArborConfig) -> SourceExamResult | None:
    student_id = ref_id(row.get("student"))
    if student_id is None:
        return None
    return SourceExamResult(
        student_mis_id=student_id,
        series=_text(pluck(row, config.exam_series_path)) if config.exam_series_path else None,
        qualification=(
            _text(pluck(row, config.exam_qualification_path))
            if config.exam_qualification_path
            else None
        ),
        subject=_text(pluck(row, config.exam_subject_path)) if config.exam_subject_path else None,
        grade=_text(pluck(row, "qualificationGrade.code")),
        result_date=row.get("resultDatetime"),
    )
