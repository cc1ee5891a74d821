"""A :class:`SourceSchool` rendered as Wonde objects.

Everything is rendered once, when the simulator starts: base objects per entity, their
include objects, and the relations between them. A request then only assembles dicts.

What Wonde's format cannot carry is lost here exactly as it would be on the live API:

- ``contact_details`` hold one email, telephone and address per type (the shape
  live-data clients read), not every entry with its flags and start date. Which entry
  Wonde keeps is inferred: we keep the one the MIS marks Primary, else Main, else the
  first; for addresses the latest start date. The Primary email and telephone are also
  given under ``primary``; the Main flag has no place on the wire.
- ``sen_status`` is the current SEN code only (no history, no dates).
- group and class memberships carry no dates; year groups and classes carry no dates.

Genders are Wonde's ``MALE``/``FEMALE`` (option ``gender_style``); the staff code sits
where the option ``staff_code_field`` says (``employment_details.staff_code`` by default).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeAlias

from attrs import define, field

from misbridge.plugin import (
    GroupKind,
    Role,
    SourceGroup,
    SourcePhoto,
    SourceSchool,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)
from misbridge_wonde.schema import WireNames, carbon
from misbridge_wonde.simulator.contacts import contact_details
from misbridge_wonde.simulator.options import SimOptions

__all__ = [
    "ENTITIES",
    "Entity",
    "Rendered",
    "current_sen",
    "render_school",
    "wire_gender",
]

Json: TypeAlias = dict[str, Any]

#: List endpoints and the relations each can include: name -> (target entity, many).
ENTITIES: dict[str, dict[str, tuple[str, bool]]] = {
    "students": {
        "contact_details": ("student_contact_details", False),
        "education_details": ("education_details", False),
        "extended_details": ("extended_details", False),
        "year": ("year", False),
        "groups": ("groups", True),
        "classes": ("classes", True),
        "photo": ("photos", False),
    },
    "employees": {
        "contact_details": ("employee_contact_details", False),
        "employment_details": ("employment_details", False),
        "groups": ("groups", True),
        "classes": ("classes", True),
        "photo": ("photos", False),
    },
    "groups": {"students": ("students", True), "employees": ("employees", True)},
    "classes": {
        "subject": ("subjects", False),
        "students": ("students", True),
        "employees": ("employees", True),
    },
    "subjects": {"classes": ("classes", True)},
    "photos": {},
}


@define
class Entity:
    """One Wonde object: its base fields, when it changed, and its relations' ids."""

    id: str
    seq: int
    base: Json
    updated: datetime
    relations: dict[str, list[str]] = field(factory=dict)
    single: dict[str, str | None] = field(factory=dict)


@define
class Rendered:
    """The whole school as Wonde objects, by endpoint name and id."""

    tables: dict[str, dict[str, Entity]]
    details: dict[str, dict[str, Json]]  # include-only objects: contact_details etc.


def _initials(*names: str | None) -> str | None:
    letters = "".join(n.strip()[0] for n in names if n and n.strip())
    return letters.upper() or None


def _upi(kind: str, mis_id: str) -> str:
    return hashlib.md5(f"{kind}:{mis_id}".encode(), usedforsecurity=False).hexdigest()


#: The MIS genders Wonde spells out (live answers carry "MALE" and "FEMALE").
_WONDE_GENDERS = {"M": "MALE", "MALE": "MALE", "F": "FEMALE", "FEMALE": "FEMALE"}


def wire_gender(gender: str | None, style: str) -> str | None:
    """A gender as the simulated account sends it (see ``SimOptions.gender_style``);
    one Wonde has no documented spelling for is sent as the MIS gives it."""
    if gender is None or style == "short":
        return gender
    return _WONDE_GENDERS.get(gender.strip().upper(), gender)


def current_sen(student: SourceStudent) -> str | None:
    current = [s for s in student.sen if s.end is None] or list(student.sen)
    return current[-1].code if current else None


class _Builder:
    def __init__(
        self, school: SourceSchool, names: WireNames, changed: datetime, options: SimOptions
    ) -> None:
        self.school = school
        self.names = names
        self.changed = changed
        self.options = options
        self.tables: dict[str, dict[str, Entity]] = {name: {} for name in ENTITIES}
        self.details: dict[str, dict[str, Json]] = {
            "student_contact_details": {},
            "employee_contact_details": {},
            "education_details": {},
            "extended_details": {},
            "employment_details": {},
            "year": {},
        }

    def add(self, table: str, entity_id: str, base: Json) -> Entity:
        entity = Entity(
            id=entity_id, seq=len(self.tables[table]) + 1, base=base, updated=self.changed
        )
        self.tables[table][entity_id] = entity
        return entity

    def stamps(self) -> Json:
        return {"created_at": carbon(self.changed), "updated_at": carbon(self.changed)}

    def student(self, s: SourceStudent, years: Mapping[str, SourceYearGroup]) -> None:
        names = self.names
        entity = self.add(
            "students",
            s.mis_id,
            {
                "id": s.mis_id,
                "upi": _upi("student", s.mis_id),
                "mis_id": s.mis_id,
                "initials": _initials(
                    s.preferred_forename or s.legal_forename, s.preferred_surname or s.legal_surname
                ),
                "title": None,
                "surname": s.preferred_surname,
                "forename": s.preferred_forename,
                "middle_names": None,
                "legal_surname": s.legal_surname,
                "legal_forename": s.legal_forename,
                "gender": wire_gender(s.gender, self.options.gender_style),
                "gender_identity": None,
                "date_of_birth": carbon(_as_date(s.date_of_birth)),
                "restored_at": None,
                **self.stamps(),
            },
        )
        self.details["student_contact_details"][s.mis_id] = contact_details(
            s.mis_id, s.emails, s.telephones, s.addresses, names
        )
        self.details["education_details"][s.mis_id] = {
            names.admission_number: s.admission_number,
            names.upn: s.upn,
            "local_upn": None,
            "former_upn": None,
            "learner_number": None,
            names.nc_year: s.year_group,
            "part_time": False,
            names.admission_date: carbon(_as_date(s.admission_date)),
            names.leaving_date: carbon(_as_date(s.leaving_date)),
        }
        self.details["extended_details"][s.mis_id] = {
            names.sen: current_sen(s),
            names.ethnicity: s.ethnicity,
            names.eal: s.eal,
            names.fsm: s.fsm,
            "free_school_meals_6": None,
            names.pupil_premium: s.pupil_premium,
            names.service_child: s.service_child,
            "in_lea_care": None,
            "ever_in_care": None,
        }
        year = years.get(s.year_group or "")
        if s.year_group is not None:
            self.details["year"][s.mis_id] = {
                "id": year.mis_id if year else None,
                "code": s.year_group,
                "name": year.name if year else None,
                "description": None,
            }
        entity.single["year"] = s.mis_id if s.year_group is not None else None
        entity.single["contact_details"] = s.mis_id
        entity.single["education_details"] = s.mis_id
        entity.single["extended_details"] = s.mis_id

    def employee(self, s: SourceStaff) -> None:
        base: Json = {
            "id": s.mis_id,
            "upi": _upi("employee", s.mis_id),
            "mis_id": s.mis_id,
            "initials": _initials(s.forename, s.surname),
            "title": s.title,
            "surname": s.surname,
            "forename": s.forename,
            "middle_names": None,
            "legal_surname": None,
            "legal_forename": None,
            "gender": wire_gender(s.gender, self.options.gender_style),
            "date_of_birth": None,
            "restored_at": None,
            **self.stamps(),
        }
        entity = self.add("employees", s.mis_id, base)
        self.details["employee_contact_details"][s.mis_id] = contact_details(
            s.mis_id, s.emails, (), (), self.names
        )
        self.details["employment_details"][s.mis_id] = self.employment(s, base)
        entity.single["contact_details"] = s.mis_id
        entity.single["employment_details"] = s.mis_id

    def employment(self, s: SourceStaff, base: Json) -> Json:
        """``employment_details.data``: the keys Wonde documents, then the identifiers
        public models of live answers read there (``staff_code``, ``teacher_number``,
        ``employee_payroll_number``), unless the staff code is served elsewhere."""
        details: Json = {
            "current": True,
            "teaching_staff": True,
            "employment_start_date": None,
            "employment_end_date": None,
            "role_text": None,
        }
        where = self.options.staff_code_field
        if where is None:
            return details  # only the documented keys: the code is nowhere
        details.update(staff_code=None, teacher_number=None, employee_payroll_number=None)
        include, _, key = where.rpartition(".")
        (details if include else base)[key] = s.staff_code
        return details

    def group(self, g: SourceGroup | SourceYearGroup, kind: GroupKind) -> None:
        self.add(
            "groups",
            g.mis_id,
            {
                "id": g.mis_id,
                "mis_id": g.mis_id,
                "name": g.name,
                "code": g.code,
                "type": self.names.group_type(kind),
                "description": None,
                "notes": None,
                "division": None,
                **self.stamps(),
            },
        )

    def klass(self, g: SourceGroup, subjects: dict[str, str]) -> None:
        subject_id = None
        if g.subject is not None:
            subject_id = subjects.setdefault(g.subject, f"SUBJ{len(subjects) + 1}")
            if subject_id not in self.tables["subjects"]:
                self.add(
                    "subjects",
                    subject_id,
                    {
                        "id": subject_id,
                        "mis_id": subject_id,
                        "code": None,
                        "name": g.subject,
                        "active": True,
                        **self.stamps(),
                    },
                )
        entity = self.add(
            "classes",
            g.mis_id,
            {
                "id": g.mis_id,
                "mis_id": g.mis_id,
                "name": g.name,
                "code": g.code,
                "description": None,
                "subject": subject_id,
                "alternative": None,
                "academic_year": None,
                **self.stamps(),
            },
        )
        entity.single["subject"] = subject_id

    def photo(self, p: SourcePhoto) -> None:
        content = base64.b64encode(p.data).decode("ascii")
        if self.options.photo_encoding == "data-uri":
            content = f"data:{p.media_type or 'application/octet-stream'};base64,{content}"
        photo_id = f"PH-{p.role.value}-{p.person_mis_id}"
        self.add(
            "photos",
            photo_id,
            {
                "id": photo_id,
                "content": content,
                "hash": hashlib.md5(p.data, usedforsecurity=False).hexdigest(),
                **self.stamps(),
            },
        )
        owner = self.tables["students" if p.role is Role.STUDENT else "employees"].get(
            p.person_mis_id
        )
        if owner is not None:
            owner.single["photo"] = photo_id

    def memberships(self) -> None:
        groups, classes = self.tables["groups"], self.tables["classes"]
        people = {Role.STUDENT: self.tables["students"], Role.STAFF: self.tables["employees"]}
        back = {Role.STUDENT: "students", Role.STAFF: "employees"}
        for m in self.school.memberships:
            table, relation = (
                (classes, "classes") if m.group_kind is GroupKind.CLASS else (groups, "groups")
            )
            group = table.get(m.group_mis_id)
            person = people[m.role].get(m.person_mis_id)
            if group is None or person is None:
                continue
            # A school whose MIS links teachers from the class's side only: the class
            # lists its staff, the employee's own classes include stays empty.
            one_sided = m.role is Role.STAFF and relation == "classes"
            if not (one_sided and not self.options.employee_class_links):
                _link(person.relations.setdefault(relation, []), group.id)
            _link(group.relations.setdefault(back[m.role], []), person.id)
        for klass in classes.values():
            subject = klass.single.get("subject")
            if subject is not None:
                _link(
                    self.tables["subjects"][subject].relations.setdefault("classes", []), klass.id
                )


def _link(ids: list[str], new: str) -> None:
    # Wonde lists a relation once: it has no dated memberships to tell two apart.
    if new not in ids:
        ids.append(new)


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def render_school(
    school: SourceSchool, names: WireNames, changed: datetime, options: SimOptions
) -> Rendered:
    b = _Builder(school, names, changed, options)
    years = {y.code or "": y for y in school.year_groups}
    for s in school.students:
        b.student(s, years)
    for staff in school.staff:
        b.employee(staff)
    for y in school.year_groups:
        b.group(y, GroupKind.YEAR)
    subjects: dict[str, str] = {}
    for g in school.groups:
        if g.kind is GroupKind.CLASS:
            b.klass(g, subjects)
        else:
            b.group(g, g.kind)
    for p in school.photos:
        b.photo(p)
    b.memberships()
    return Rendered(tables=b.tables, details=b.details)
