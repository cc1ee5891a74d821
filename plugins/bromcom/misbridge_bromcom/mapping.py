"""Bromcom rows -> source records. Mapping only: values stay raw, no rule is applied.

Rows are keyed by wire names (:class:`~misbridge_bromcom.schema.Vocabulary`); values are
whatever the service sent: JSON strings, numbers and booleans from the Partner API,
text from the legacy service's DataSets. Dates and flags are passed on as sent (the
shared normaliser reads ``"2012-03-04T00:00:00"``, ``"...+01:00"``, ``"Yes"``,
``"true"``); ids become strings; an empty string is "no value".
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from misbridge.plugin import (
    GroupKind,
    Role,
    SourceAcademicYear,
    SourceEmail,
    SourceExamResult,
    SourceFormatError,
    SourceGroup,
    SourceMembership,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)

__all__ = [
    "academic_year",
    "collection",
    "exam_result",
    "ident",
    "membership_reader",
    "photo_bytes",
    "staff",
    "student",
    "text",
]

Row = Mapping[str, Any]
Fields = Mapping[str, str]


def text(row: Row, name: str) -> str | None:
    """A text value, trimmed (Bromcom pads text with trailing spaces); blank and missing
    are ``None``. Numbers become their digits."""
    value = row.get(name)
    if type(value) is str:  # the common case first: this runs for every cell
        value = value.strip()
        return value or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def raw(row: Row, name: str) -> Any:
    """A date or flag as sent, trimmed; blank strings are "no value"."""
    value = row.get(name)
    if isinstance(value, str):
        return value.strip() or None
    return value


def ident(row: Row, name: str, entity: str) -> str:
    """A row's id, which every row of an entity must have."""
    value = text(row, name)
    if value is None:
        raise SourceFormatError(
            f"bromcom: a {entity} row has no {name}; the answer is not what Bromcom sends",
            mis="bromcom",
            entity=entity,
            field=name,
        )
    return value.strip()


def student(row: Row, f: Fields, email_type: str) -> SourceStudent:
    email = text(row, f["email"])
    provision = text(row, f["sen"])
    return SourceStudent(
        mis_id=ident(row, f["id"], "student"),
        admission_number=text(row, f["admission_number"]),
        upn=text(row, f["upn"]),
        legal_forename=text(row, f["legal_forename"]),
        legal_surname=text(row, f["legal_surname"]),
        preferred_forename=text(row, f["preferred_forename"]),
        preferred_surname=text(row, f["preferred_surname"]),
        gender=text(row, f["gender"]),
        date_of_birth=raw(row, f["date_of_birth"]),
        ethnicity=text(row, f["ethnicity"]),
        eal=raw(row, f["eal"]),
        fsm=raw(row, f["fsm"]),
        pupil_premium=raw(row, f["pupil_premium"]),
        service_child=raw(row, f["service_child"]),
        # The flat view holds the provision in force, without its dates.
        sen=(SourceSen(code=provision),) if provision else (),
        year_group=text(row, f["year_group"]),
        admission_date=raw(row, f["admission_date"]),
        leaving_date=raw(row, f["leaving_date"]),
        # One email, of a type the flat view does not say (the student_email_type setting).
        emails=(SourceEmail(type=email_type, address=email),) if email else (),
    )


def staff(row: Row, f: Fields) -> SourceStaff:
    email = text(row, f["work_email"])
    return SourceStaff(
        mis_id=ident(row, f["id"], "staff"),
        title=text(row, f["title"]),
        forename=text(row, f["forename"]),
        surname=text(row, f["surname"]),
        gender=text(row, f["gender"]),
        emails=(SourceEmail(type="W", address=email),) if email else (),
        staff_code=text(row, f["staff_code"]),
    )


def academic_year(row: Row, f: Fields) -> SourceAcademicYear:
    return SourceAcademicYear(
        mis_id=ident(row, f["id"], "calendar model"),
        name=text(row, f["name"]),
        start=raw(row, f["start"]),
        end=raw(row, f["end"]),
    )


def collection(
    row: Row, f: Fields, kinds: Mapping[str, str], subjects: Mapping[str, str]
) -> SourceGroup | SourceYearGroup | None:
    """A collection of a kind we extract; None for the others (clubs, departments...)."""
    kind = kinds.get((text(row, f["type"]) or "").strip().upper())
    if kind is None:
        return None
    mis_id = ident(row, f["id"], "collection")
    if kind == "year":
        # Bromcom names a year group by its NC year ("7"); the description is "Year 7".
        return SourceYearGroup(
            mis_id=mis_id,
            name=text(row, f["description"]),
            code=text(row, f["name"]),
            start=raw(row, f["start"]),
            end=raw(row, f["end"]),
        )
    subject_id = text(row, f["subject_id"])
    return SourceGroup(
        mis_id=mis_id,
        name=text(row, f["name"]),
        kind=GroupKind(kind),
        subject=subjects.get(subject_id) if subject_id else None,
    )


def membership_reader(
    f: Fields,
    person: str,
    role: Role,
    kinds: Mapping[str, GroupKind],
    people: Mapping[str, str] | None = None,
    unmatched: dict[str, int] | None = None,
) -> Callable[[Row], SourceMembership | None]:
    """Reads collection associates (pupils) or executives (staff) into memberships;
    None for rows of other collections (clubs, departments...).

    With ``people`` (the id a row names -> the person's MIS id), a row naming nobody in
    it is not a membership: it is counted in ``unmatched`` by collection, for the caller
    to report, and None is returned.

    A reader with the names bound once, because a school has tens of thousands of
    these rows: the hot path avoids every lookup it can.
    """
    group_field, person_field, start_field, end_field = (
        f["collection_id"],
        f[person],
        f["start"],
        f["end"],
    )

    def read(row: Row) -> SourceMembership | None:
        group = row.get(group_field)
        if group is None:
            return None
        if type(group) is not str:
            group = str(group)
        kind = kinds.get(group)
        if kind is None:
            group = group.strip()
            kind = kinds.get(group)
            if kind is None:
                return None
        who = row.get(person_field)
        if type(who) is not str:
            who = None if who is None else str(who)
        if not who or who.isspace():
            ident(row, person_field, "collection member")  # raises, naming the field
        who = who.strip()  # type: ignore[union-attr]
        if people is not None:
            found = people.get(who)
            if found is None:
                if unmatched is not None:
                    unmatched[group] = unmatched.get(group, 0) + 1
                return None
            who = found
        start = row.get(start_field)
        end = row.get(end_field)
        return SourceMembership(
            group,
            kind,
            who,
            role,
            (start.strip() or None) if isinstance(start, str) else start,
            (end.strip() or None) if isinstance(end, str) else end,
        )

    return read


def exam_result(row: Row, f: Fields) -> SourceExamResult:
    return SourceExamResult(
        student_mis_id=ident(row, f["student_id"], "assessment result"),
        series=text(row, f["term"]),
        qualification=text(row, f["type"]),
        subject=text(row, f["subject"]),
        grade=text(row, f["result"]),
        result_date=raw(row, f["entered"]),
    )


def photo_bytes(row: Row, name: str, person: str) -> bytes | None:
    """A DataSet ``base64Binary`` photo column, decoded."""
    value = text(row, name)
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SourceFormatError(
            f"bromcom: the photo of person {person} is not valid base64",
            mis="bromcom",
            field=name,
        ) from None
