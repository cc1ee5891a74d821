"""The simulator's Bromcom database: a :class:`SourceSchool` laid out as Bromcom entities.

Rows here use the *logical* field names of :mod:`misbridge_bromcom.schema` and plain
Python values (``date``, ``bool``, ``int``, ``str``, ``None``); the web layer renames
them to one mode's wire names and encodes them (JSON or a .NET DataSet).

The layout follows Bromcom's data model: classes, tutor groups, houses and year groups
are all *collections* with a type; pupils are a collection's *associates* and staff its
*executives*. Rows the plugin must filter out are added on purpose (pupils who left
years ago, departments and clubs, assessment types that are not exam results), so that a
plugin sending the wrong filter fails its tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from attrs import frozen

from misbridge.plugin import GroupKind, RawDate, RawFlag, Role, SourceEmail, SourceSchool, SourceSen

__all__ = ["BromcomData", "Row", "build_data", "current_sen", "wire_id"]

Row = dict[str, Any]

#: How Bromcom spells contact types (the normaliser reads the words as H, M and W).
_TYPE_NAMES = {"H": "Home", "M": "Mobile", "W": "Work"}

_EXECUTIVE_ROLES = {
    GroupKind.CLASS: "Class Teacher",
    GroupKind.REGISTRATION: "Main Tutor",
    GroupKind.HOUSE: "Head of House",
    GroupKind.YEAR: "Head of Year",
}


def wire_id(mis_id: str) -> int | str:
    """Bromcom ids are integers; a sample id that is not one is served as given."""
    if mis_id.isdigit() and not (len(mis_id) > 1 and mis_id.startswith("0")):
        return int(mis_id)
    return mis_id


def _yes_no(value: RawFlag) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return "Yes" if value else "No"


def _bool(value: RawFlag) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    return value


def _date(value: RawDate) -> date | str | None:
    if value is None or isinstance(value, (date, str)):
        return value
    return None


def _best(emails: Iterable[SourceEmail], kind: str) -> str | None:
    """The one email of ``kind`` Bromcom shows on a flat view: primary, main, first."""
    of_kind = [e for e in emails if (e.type or "").upper() == kind.upper() and e.address]
    for pick in (lambda e: e.primary, lambda e: e.main, lambda e: True):
        for email in of_kind:
            if pick(email):
                return email.address
    return None


def current_sen(entries: Sequence[SourceSen]) -> str | None:
    """The provision in force: the open-ended entry, else the latest-starting one."""
    if not entries:
        return None
    open_ended = [e for e in entries if e.end is None]
    return (open_ended or list(entries))[-1].code


@frozen
class BromcomData:
    """Entity tables by logical entity key, and photo bytes by photo id."""

    tables: Mapping[str, list[Row]]
    images: Mapping[str, tuple[bytes, str]]
    school_id: int


def _photo_token(school: SourceSchool, role: Role, mis_id: str) -> str:
    digest = hashlib.sha256(f"{school.mis_id}|{role.value}|{mis_id}".encode()).hexdigest()
    return digest[:32].upper()


#: Simulated pupils' person ids start here: Bromcom gives a pupil a person id distinct
#: from their student id, and names them by it in CollectionAssociates and the
#: person-detail entities (staff: staffID = personID).
PERSON_ID_BASE = 7_000_001


def build_data(
    school: SourceSchool,
    *,
    school_id: int,
    student_email_type: str = "H",
    noise: bool = True,
    person_ids: bool = True,
) -> BromcomData:
    """Lay ``school`` out as Bromcom entities (see the module docstring). With
    ``person_ids`` off, a pupil's person id is their student id."""
    person_of: dict[str, int | str] = {
        s.mis_id: (PERSON_ID_BASE + n if person_ids else wire_id(s.mis_id))
        for n, s in enumerate(school.students)
    }
    photos = {(p.role, p.person_mis_id): p for p in school.photos}
    images: dict[str, tuple[bytes, str]] = {}
    tokens: dict[tuple[Role, str], str] = {}
    for (role, mis_id), photo in photos.items():
        token = _photo_token(school, role, mis_id)
        tokens[(role, mis_id)] = token
        images[token] = (photo.data, photo.media_type or "application/octet-stream")

    tutor: dict[str, tuple[Any, str]] = {}
    names = {g.mis_id: g.name for g in school.groups}
    for m in school.memberships:
        if m.group_kind is GroupKind.REGISTRATION and m.role is Role.STUDENT:
            start = m.start if isinstance(m.start, date) else date.min
            if m.person_mis_id not in tutor or tutor[m.person_mis_id][0] <= start:
                tutor[m.person_mis_id] = (start, names.get(m.group_mis_id) or "")

    students = [
        {
            "id": wire_id(s.mis_id),
            "person_id": person_of[s.mis_id],
            "admission_number": s.admission_number,
            "upn": s.upn,
            "legal_forename": s.legal_forename,
            "legal_surname": s.legal_surname,
            "preferred_forename": s.preferred_forename,
            "preferred_surname": s.preferred_surname,
            "gender": s.gender,
            "date_of_birth": _date(s.date_of_birth),
            "ethnicity": s.ethnicity,
            "eal": _yes_no(s.eal),
            "fsm": _yes_no(s.fsm),
            "pupil_premium": _bool(s.pupil_premium),
            "service_child": _yes_no(s.service_child),
            "sen": current_sen(s.sen),
            "year_group": s.year_group,
            "tutor_group": tutor.get(s.mis_id, (None, None))[1],
            "admission_date": _date(s.admission_date),
            "leaving_date": _date(s.leaving_date),
            "enrolment_state": "C",
            "email": _best(s.emails, student_email_type),
            "photo_id": tokens.get((Role.STUDENT, s.mis_id)),
        }
        for s in school.students
    ]
    staff = [
        {
            "id": wire_id(s.mis_id),
            "title": s.title,
            "forename": s.forename,
            "surname": s.surname,
            "preferred_forename": s.forename,
            "preferred_surname": s.surname,
            "gender": s.gender,
            "work_email": _best(s.emails, "W"),
            "staff_code": s.staff_code,
            "job_title": "Teacher",
            "photo_id": tokens.get((Role.STAFF, s.mis_id)),
        }
        for s in school.staff
    ]
    years = [
        {"id": wire_id(y.mis_id), "name": y.name, "start": _date(y.start), "end": _date(y.end)}
        for y in school.academic_years
    ]
    subject_ids: dict[str, int] = {}
    subjects: list[Row] = []
    for g in school.groups:
        if g.subject and g.subject not in subject_ids:
            subject_ids[g.subject] = len(subject_ids) + 1
            code = "".join(c for c in g.subject.upper() if c.isalpha())[:3]
            subjects.append({"id": len(subject_ids), "code": code, "name": g.subject})
    collections: list[Row] = [
        {
            "id": wire_id(yg.mis_id),
            "name": yg.code,
            "description": yg.name,
            "type": "year",
            "start": _date(yg.start),
            "end": _date(yg.end),
            "subject_id": None,
        }
        for yg in school.year_groups
    ]
    collections += [
        {
            "id": wire_id(g.mis_id),
            "name": g.name,
            "description": g.name,
            "type": g.kind.value,
            "start": None,
            "end": None,
            "subject_id": subject_ids.get(g.subject) if g.subject else None,
        }
        for g in school.groups
    ]
    year_codes = {yg.mis_id: yg.code for yg in school.year_groups}
    associates: list[Row] = []
    executives: list[Row] = []
    for m in school.memberships:
        collection = wire_id(m.group_mis_id)
        if m.role is Role.STUDENT:
            associates.append(
                {
                    "collection_id": collection,
                    "collection_name": year_codes.get(m.group_mis_id)
                    if m.group_kind is GroupKind.YEAR
                    else names.get(m.group_mis_id),
                    "person_id": person_of.get(m.person_mis_id, wire_id(m.person_mis_id)),
                    "start": _date(m.start),
                    "end": _date(m.end),
                }
            )
        else:
            executives.append(
                {
                    "collection_id": collection,
                    "staff_id": wire_id(m.person_mis_id),
                    "role": _EXECUTIVE_ROLES[m.group_kind],
                    "start": _date(m.start),
                    "end": _date(m.end),
                }
            )
    year_of = {s.mis_id: s.year_group for s in school.students}
    results = [
        {
            "student_id": wire_id(r.student_mis_id),
            "type": r.qualification,
            "result": r.grade,
            "entered": _date(r.result_date),
            "term": r.series,
            "year_group": year_of.get(r.student_mis_id),
            "subject": r.subject,
            "is_grade": True,
        }
        for r in school.exam_results
    ]
    addresses: list[Row] = []
    telephones: list[Row] = []
    emails: list[Row] = []
    sen: list[Row] = []
    for s in school.students:
        person = person_of[s.mis_id]
        for a in s.addresses:
            lines = [*a.lines[:3], *([None] * (3 - len(a.lines[:3])))]
            addresses.append(
                {
                    "person_id": person,
                    "type": _TYPE_NAMES.get(a.type or "", a.type),
                    "line1": lines[0],
                    "line2": lines[1],
                    "line3": lines[2],
                    "town": ", ".join(a.lines[3:]) or None,
                    "postcode": a.postcode,
                    "start": _date(a.start),
                }
            )
        for t in s.telephones:
            telephones.append(
                {
                    "person_id": person,
                    "type": _TYPE_NAMES.get(t.type or "", t.type),
                    "number": t.number,
                    "primary": t.primary,
                    "main": t.main,
                }
            )
        for e in s.emails:
            emails.append(
                {
                    "person_id": person,
                    "type": _TYPE_NAMES.get(e.type or "", e.type),
                    "address": e.address,
                    "primary": e.primary,
                    "main": e.main,
                }
            )
        for entry in s.sen:
            sen.append(
                {
                    "student_id": wire_id(s.mis_id),
                    "provision": entry.code,
                    "start": _date(entry.start),
                    "end": _date(entry.end),
                }
            )
    person_photos = [
        {
            "person_id": person_of.get(mis_id, wire_id(mis_id))
            if role is Role.STUDENT
            else wire_id(mis_id),
            "photo": photos[(role, mis_id)].data,
        }
        for (role, mis_id) in photos
    ]
    tables: dict[str, list[Row]] = {
        "students": students,
        "staff": staff,
        "years": years,
        "collections": collections,
        "associates": associates,
        "executives": executives,
        "subjects": subjects,
        "results": results,
        "photos": person_photos,
        "addresses": addresses,
        "telephones": telephones,
        "emails": emails,
        "sen": sen,
    }
    if noise:
        _add_noise(school, tables, person_of, person_ids)
    return BromcomData(tables=tables, images=images, school_id=school_id)


def _add_noise(
    school: SourceSchool,
    tables: dict[str, list[Row]],
    person_of: Mapping[str, int | str],
    person_ids: bool,
) -> None:
    """Rows a correct plugin never returns: each proves one of its filters works."""
    starts = [y.start for y in school.academic_years if isinstance(y.start, date)]
    long_ago = (min(starts) if starts else date(2000, 9, 1)) - timedelta(days=400)
    for n in range(3):
        former = 8_000_001 + n
        tables["students"].append(
            {
                "id": former,
                "person_id": former + 500_000 if person_ids else former,
                "legal_forename": "Former",
                "legal_surname": f"Pupil{n + 1}",
                "year_group": "13",
                "admission_date": long_ago - timedelta(days=2000),
                "leaving_date": long_ago,
                "enrolment_state": "C",
                "eal": "No",
            }
        )
        tables["associates"].append(
            {
                "collection_id": 9_000_001,
                "collection_name": "Chess Club",
                "person_id": former + 500_000 if person_ids else former,
                "start": long_ago - timedelta(days=300),
                "end": long_ago,
            }
        )
    tables["collections"] += [
        {"id": 9_000_001, "name": "Chess Club", "description": "Chess Club", "type": "CLUB"},
        {"id": 9_000_002, "name": "Science", "description": "Science Dept", "type": "DEPT"},
    ]
    for s in school.students[:5]:
        tables["associates"].append(
            {
                "collection_id": 9_000_001,
                "collection_name": "Chess Club",
                "person_id": person_of[s.mis_id],
                "start": None,
                "end": None,
            }
        )
        tables["results"].append(
            {
                "student_id": wire_id(s.mis_id),
                "type": "Target Grade",
                "result": "6",
                "entered": starts[-1] if starts else None,
                "term": "Autumn",
                "year_group": s.year_group,
                "subject": "Mathematics",
                "is_grade": True,
            }
        )
