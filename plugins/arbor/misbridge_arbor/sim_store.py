"""The simulator's data: a school rendered as Arbor entities (mis-apis.md 2.3).

Every record is a plain dict of SDK property names. A related object is a :class:`Ref`
to another entity; a property the reference marks as a configurable path (for example
where a teaching group's subject lives) is an embedded dict. Both wire formats (REST
objects and GraphQL) are rendered from this one store, so they always agree.

Ids: the sample school's own ids are kept (``/rest-v2/staff/S1000``), so that an
extract can be compared with the school field by field; entities the school has no id
for (memberships, contacts, lookups) get sequential integers, as Arbor gives them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from attrs import define, field, frozen

from misbridge.model import Dataset, GroupKind, Role
from misbridge.source import RawDate, SourceSchool, SourceStudent

__all__ = ["DATASET_ENTITIES", "RESOURCES", "REVERSE", "EntityStore", "Ref", "StoreOptions"]


@frozen
class Ref:
    """A reference from one entity to another."""

    type: str
    id: str


#: Entity type -> REST resource name ("1. Lower case 2. Dash-separated 3. Plural").
RESOURCES: dict[str, str] = {
    "AcademicYear": "academic-years",
    "AcademicLevel": "academic-levels",
    "AcademicLevelMembership": "academic-level-memberships",
    "AcademicLevelTutor": "academic-level-tutors",
    "RegistrationForm": "registration-forms",
    "RegistrationFormMembership": "registration-form-memberships",
    "RegistrationFormTutor": "registration-form-tutors",
    "House": "houses",
    "HouseMembership": "house-memberships",
    "HouseTutor": "house-tutors",
    "TeachingGroup": "teaching-groups",
    "TeachingGroupMembership": "teaching-group-memberships",
    "TeachingGroupTutor": "teaching-group-tutors",
    "Student": "students",
    "Staff": "staff",
    "Person": "people",
    "Gender": "genders",
    "Title": "titles",
    "Ethnicity": "ethnicities",
    "EmailAddress": "email-addresses",
    "TelephoneNumber": "telephone-numbers",
    "PostalAddress": "postal-addresses",
    "PostalAddressOccupancy": "postal-address-occupancies",
    "SenStatus": "sen-statuses",
    "SenStatusAssignment": "sen-status-assignments",
    "Eligibility": "eligibilities",
    "EligibilityRecord": "eligibility-records",
    "QualificationResult": "qualification-results",
    "QualificationGrade": "qualification-grades",
}

#: Reverse lists GraphQL exposes on an entity (by analogy with the documented
#: ``Staff.emailAddresses`` and ``RegistrationForm.tutors``): field -> (child type, link).
REVERSE: dict[str, dict[str, tuple[str, str]]] = {
    "Student": {
        "emailAddresses": ("EmailAddress", "emailAddressOwner"),
        "telephoneNumbers": ("TelephoneNumber", "numberOwner"),
        "postalAddressOccupancies": ("PostalAddressOccupancy", "occupant"),
        "senStatusAssignments": ("SenStatusAssignment", "student"),
        "eligibilityRecords": ("EligibilityRecord", "person"),
    },
    "Staff": {
        "emailAddresses": ("EmailAddress", "emailAddressOwner"),
        "telephoneNumbers": ("TelephoneNumber", "numberOwner"),
    },
}

_GROUPS: dict[GroupKind, tuple[str, str, str, str]] = {
    # kind: (group entity, student membership entity, staff tutor entity, link property)
    GroupKind.YEAR: (
        "AcademicLevel",
        "AcademicLevelMembership",
        "AcademicLevelTutor",
        "academicLevel",
    ),
    GroupKind.REGISTRATION: (
        "RegistrationForm",
        "RegistrationFormMembership",
        "RegistrationFormTutor",
        "registrationForm",
    ),
    GroupKind.HOUSE: ("House", "HouseMembership", "HouseTutor", "house"),
    GroupKind.CLASS: (
        "TeachingGroup",
        "TeachingGroupMembership",
        "TeachingGroupTutor",
        "teachingGroup",
    ),
}

#: What an account denied a dataset can no longer read.
DATASET_ENTITIES: dict[Dataset, frozenset[str]] = {
    Dataset.YEARS: frozenset({"AcademicYear", "AcademicLevel"}),
    Dataset.STAFF: frozenset({"Staff"}),
    Dataset.STUDENTS: frozenset(
        {"Student", "SenStatusAssignment", "EligibilityRecord", "PostalAddressOccupancy"}
    ),
    Dataset.GROUPS: frozenset(
        {name for spec in _GROUPS.values() for name in spec[:3] if name != "AcademicLevel"}
    ),
    Dataset.EXAM_RESULTS: frozenset({"QualificationResult"}),
    Dataset.PHOTOS: frozenset({"ProfilePicture"}),
}

DEFAULT_CONTACT_TYPES: Mapping[str, Mapping[str, str]] = {
    "email": {"H": "PERSONAL", "W": "WORK", "M": "MOBILE"},
    "phone": {"H": "HOME", "M": "MOBILE", "W": "WORK"},
    "address": {"H": "HOME", "W": "WORK", "M": "MOBILE"},
}


@frozen
class StoreOptions:
    """Facts mis-apis.md marks [Unknown]: each is also a plugin setting of the same name."""

    eligibility_codes: Mapping[str, str] = field(
        factory=lambda: {"fsm": "FSM", "eal": "EAL", "pupil_premium": "PP", "service_child": "SC"}
    )
    class_subject_path: str = "subject.subjectName"
    exam_subject_path: str = "candidateEntry.qualificationLearningUnit.displayName"
    exam_qualification_path: str = "candidateEntry.qualificationAward.displayName"
    exam_series_path: str = "candidateEntry.qualificationAvailabilityInstance.displayName"
    contact_types: Mapping[str, Mapping[str, str]] = field(factory=lambda: DEFAULT_CONTACT_TYPES)


def embed(path: str, value: Any) -> dict[str, Any]:
    """``embed("a.b.c", v)`` -> ``{"a": {"b": {"c": v}}}``."""
    head, _, rest = path.partition(".")
    return {head: embed(rest, value) if rest else value}


def merge(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _day(value: RawDate) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    return date.fromisoformat(str(value)[:10])


@define
class EntityStore:
    """All entities of one simulated school, with the revision log behind the change log."""

    options: StoreOptions = field(factory=StoreOptions)
    entities: dict[str, dict[str, dict[str, Any]]] = field(factory=lambda: defaultdict(dict))
    revision: int = 0
    changes: list[tuple[int, str, str, str]] = field(factory=list)  # rev, type, id, kind
    photos: dict[tuple[str, str], bytes] = field(factory=dict)
    _serial: itertools.count[int] = field(factory=lambda: itertools.count(1))
    _children: dict[tuple[str, str], dict[Ref, list[str]]] = field(factory=dict)
    _rows: dict[str, list[tuple[str, dict[str, Any]]]] = field(factory=dict)
    _ref_types: dict[tuple[str, str], str | None] = field(factory=dict)

    # -- building -------------------------------------------------------------------------
    def add(self, kind: str, props: dict[str, Any], entity_id: str | None = None) -> str:
        new_id = entity_id if entity_id is not None else str(next(self._serial))
        self.revision += 1
        self.entities[kind][new_id] = {**props, "revisionId": self.revision}
        self.changes.append((self.revision, kind, new_id, "create"))
        self._forget()
        return new_id

    def _forget(self) -> None:
        self._children.clear()
        self._rows.clear()
        self._ref_types.clear()

    def update(self, kind: str, entity_id: str, **props: Any) -> None:
        """Change an entity (tests use it to exercise the change log)."""
        self.revision += 1
        record = self.entities[kind][entity_id]
        record.update(props, revisionId=self.revision)
        self.changes.append((self.revision, kind, entity_id, "update"))
        self._forget()

    def delete(self, kind: str, entity_id: str) -> None:
        self.revision += 1
        del self.entities[kind][entity_id]
        self.changes.append((self.revision, kind, entity_id, "delete"))
        self._forget()

    def lookup(self, kind: str, code: str | None, **extra: Any) -> Ref | None:
        """The lookup entity (gender, title, status...) with this code, made on first use."""
        if code is None:
            return None
        for entity_id, record in self.entities[kind].items():
            if record.get("code") == code:
                return Ref(kind, entity_id)
        return Ref(kind, self.add(kind, {"code": code, **extra}))

    # -- reading --------------------------------------------------------------------------
    def get(self, ref: Ref) -> dict[str, Any] | None:
        return self.entities.get(ref.type, {}).get(ref.id)

    def rows(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Every ``(id, record)`` of a kind, in creation order (cached for paging)."""
        found = self._rows.get(kind)
        if found is None:
            found = self._rows[kind] = list(self.entities.get(kind, {}).items())
        return found

    def ref_type(self, kind: str, name: str) -> str | None:
        """The entity type a property of ``kind`` refers to (None: not a reference)."""
        key = (kind, name)
        if key not in self._ref_types:
            found = None
            for _, record in self.rows(kind):
                value = record.get(name)
                if isinstance(value, Ref):
                    found = value.type
                    break
            self._ref_types[key] = found
        return self._ref_types[key]

    def children(self, kind: str, link: str, parent: Ref) -> list[str]:
        index = self._children.get((kind, link))
        if index is None:
            index = defaultdict(list)
            for child_id, record in self.entities.get(kind, {}).items():
                target = record.get(link)
                if isinstance(target, Ref):
                    index[target].append(child_id)
            self._children[(kind, link)] = index
        return index.get(parent, [])

    def display_name(self, kind: str, record: Mapping[str, Any]) -> str | None:
        if kind == "Person":
            first = record.get("preferredFirstName") or record.get("legalFirstName")
            last = record.get("preferredLastName") or record.get("legalLastName")
            return " ".join(n for n in (first, last) if n) or None
        for key in (
            "displayName",
            f"{kind[0].lower()}{kind[1:]}Name",
            "code",
            "emailAddress",
            "number",
        ):
            value = record.get(key)
            if isinstance(value, str):
                return value
        person = record.get("person")
        if isinstance(person, Ref):
            found = self.get(person)
            if found is not None:
                return self.display_name("Person", found)
        return None


def build_store(school: SourceSchool, options: StoreOptions | None = None) -> EntityStore:
    """Render a sample school as Arbor entities."""
    store = EntityStore(options=options or StoreOptions())
    years: list[tuple[str, date | None, date | None]] = []
    for ay in school.academic_years:
        start, end = _day(ay.start), _day(ay.end)
        store.add(
            "AcademicYear",
            {"academicYearName": ay.name, "code": ay.name, "startDate": start, "endDate": end},
            ay.mis_id,
        )
        years.append((ay.mis_id, start, end))
    current = years[-1][0] if years else None
    levels: dict[str, str] = {}
    for order, yg in enumerate(school.year_groups):
        start = _day(yg.start)
        year = next((y for y, s, e in years if s == start and e == _day(yg.end)), None)
        store.add(
            "AcademicLevel",
            {
                "academicLevelName": yg.name,
                "shortName": yg.code,
                "curriculumGrade": yg.code,
                "academicYear": Ref("AcademicYear", year) if year else None,
                "displayOrder": order + 1,
            },
            yg.mis_id,
        )
        if yg.code is not None and year == current:
            levels.setdefault(yg.code, yg.mis_id)
    _add_staff(store, school)
    for student in school.students:
        _add_student(store, student, levels)
    _add_groups(store, school, current)
    _add_results(store, school)
    for photo in school.photos:
        kind = "student" if photo.role is Role.STUDENT else "staff"
        store.photos[(kind, photo.person_mis_id)] = photo.data
    return store


def _person(store: EntityStore, **names: Any) -> Ref:
    gender = store.lookup("Gender", names.pop("gender"))
    title = store.lookup("Title", names.pop("title", None))
    return Ref("Person", store.add("Person", {"gender": gender, "title": title, **names}))


def _contacts(
    store: EntityStore, owner: Ref, emails: Iterable[Any], phones: Iterable[Any] = ()
) -> None:
    # Arbor keeps no Primary/Main flag, only an order: the school's flagged contacts
    # come first (Primary, then Main), the rest in the order the school listed them.
    types = store.options.contact_types

    def ranked(items: Iterable[Any]) -> list[Any]:
        return sorted(items, key=lambda c: (not c.primary, not c.main))

    for order, email in enumerate(ranked(emails), start=1):
        store.add(
            "EmailAddress",
            {
                "emailAddressOwner": owner,
                "emailAddressType": types["email"].get(email.type or "", email.type),
                "emailAddress": email.address,
                "dataOrder": order,
            },
        )
    for order, phone in enumerate(ranked(phones), start=1):
        store.add(
            "TelephoneNumber",
            {
                "numberOwner": owner,
                "telephoneNumberType": types["phone"].get(phone.type or "", phone.type),
                "number": phone.number,
                "telephoneNumberRanking": order,
            },
        )


def _add_staff(store: EntityStore, school: SourceSchool) -> None:
    for staff in school.staff:
        person = _person(
            store,
            gender=staff.gender,
            title=staff.title,
            legalFirstName=staff.forename,
            legalLastName=staff.surname,
            preferredFirstName=staff.forename,
            preferredLastName=staff.surname,
        )
        ref = Ref("Staff", staff.mis_id)
        store.add(
            "Staff",
            {"person": person, "staffNumber": None, "timetableAbbreviation": staff.staff_code},
            staff.mis_id,
        )
        _contacts(store, ref, staff.emails)


def _add_student(store: EntityStore, s: SourceStudent, levels: Mapping[str, str]) -> None:
    person = _person(
        store,
        gender=s.gender,
        legalFirstName=s.legal_forename,
        legalLastName=s.legal_surname,
        preferredFirstName=s.preferred_forename,
        preferredLastName=s.preferred_surname,
        dateOfBirth=_day(s.date_of_birth),
    )
    level = levels.get(s.year_group or "")
    ref = Ref("Student", s.mis_id)
    store.add(
        "Student",
        {
            "person": person,
            "studentNumber": s.admission_number,
            "ethnicity": store.lookup("Ethnicity", s.ethnicity),
            # GraphQL-only fields (mis-apis.md 2.3): the REST path of UPNs is unknown.
            "upn": s.upn,
            "mostRecentEntryDate": _day(s.admission_date),
            "leavingDate": _day(s.leaving_date),
            "displayAcademicLevel": Ref("AcademicLevel", level) if level else None,
        },
        s.mis_id,
    )
    _contacts(store, ref, s.emails, s.telephones)
    kinds = store.options.contact_types["address"]
    for address in s.addresses:
        lines = list(address.lines)
        town = lines.pop() if len(lines) > 1 else None
        postal = store.add(
            "PostalAddress",
            {
                "address1": lines[0] if lines else None,
                "address2": lines[1] if len(lines) > 1 else None,
                "address3": ", ".join(lines[2:]) or None,
                "postalTown": town,
                "postalCode": address.postcode,
            },
        )
        store.add(
            "PostalAddressOccupancy",
            {
                "postalAddress": Ref("PostalAddress", postal),
                "occupant": ref,
                "effectiveDate": _day(address.start),
                "endDate": None,
                "postalAddressType": kinds.get(address.type or "", address.type),
            },
        )
    for sen in s.sen:
        store.add(
            "SenStatusAssignment",
            {
                "senStatus": store.lookup("SenStatus", sen.code),
                "student": ref,
                "startDate": _day(sen.start),
                "endDate": _day(sen.end),
            },
        )
    for flag, code in store.options.eligibility_codes.items():
        if getattr(s, flag) is True:
            store.add(
                "EligibilityRecord",
                {
                    "eligibility": store.lookup("Eligibility", code),
                    "person": ref,
                    "startDate": _day(s.admission_date),
                    "endDate": None,
                },
            )


def _add_groups(store: EntityStore, school: SourceSchool, year: str | None) -> None:
    academic_year = Ref("AcademicYear", year) if year else None
    for group in school.groups:
        kind = _GROUPS[group.kind][0]
        props: dict[str, Any] = {"academicYear": academic_year}
        if group.kind is GroupKind.REGISTRATION:
            props |= {"registrationFormName": group.name, "shortName": group.code}
        elif group.kind is GroupKind.HOUSE:
            props |= {"houseName": group.name, "shortName": group.code}
        elif group.kind is GroupKind.CLASS:
            props |= {"teachingGroupName": group.name, "description": None}
            if store.options.class_subject_path:
                merge(props, embed(store.options.class_subject_path, group.subject))
        else:
            continue
        store.add(kind, props, group.mis_id)
    for m in school.memberships:
        group_kind, member_kind, tutor_kind, link = _GROUPS[m.group_kind]
        person = (
            {"student": Ref("Student", m.person_mis_id)}
            if m.role is Role.STUDENT
            else {"staff": Ref("Staff", m.person_mis_id)}
        )
        store.add(
            member_kind if m.role is Role.STUDENT else tutor_kind,
            {
                link: Ref(group_kind, m.group_mis_id),
                **person,
                "startDate": _day(m.start),
                "endDate": _day(m.end),
            },
        )


def _add_results(store: EntityStore, school: SourceSchool) -> None:
    options = store.options
    for result in school.exam_results:
        when = _day(result.result_date)
        props: dict[str, Any] = {
            "student": Ref("Student", result.student_mis_id),
            "qualificationGrade": store.lookup("QualificationGrade", result.grade),
            "resultDatetime": datetime(when.year, when.month, when.day) if when else None,
        }
        for path, value in (
            (options.exam_subject_path, result.subject),
            (options.exam_qualification_path, result.qualification),
            (options.exam_series_path, result.series),
        ):
            if path:
                merge(props, embed(path, value))
        store.add("QualificationResult", props)
