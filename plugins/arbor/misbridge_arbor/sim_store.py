"""The simulator's data: a school rendered as Arbor entities (sis-sdk-php
``src/Arbor/Model/*.php`` property names).

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
from collections.abc import Mapping
from typing import Any

from attrs import define, field, frozen

from misbridge.plugin import Dataset, GroupKind

__all__ = [
    "DATASET_ENTITIES",
    "GROUP_ENTITIES",
    "RESOURCES",
    "REVERSE",
    "EntityStore",
    "Ref",
    "StoreOptions",
]


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
    "StaffContract": "staff-contracts",
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

#: Reverse lists GraphQL exposes on an entity (``Staff.emailAddresses`` and
#: ``RegistrationForm.tutors`` are seen in public GraphQL clients; the others by analogy):
#: field -> (child type, link).
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
    "RegistrationForm": {"tutors": ("RegistrationFormTutor", "registrationForm")},
}

GROUP_ENTITIES: dict[GroupKind, tuple[str, str, str, str]] = {
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
    Dataset.STAFF: frozenset({"Staff", "StaffContract"}),
    Dataset.STUDENTS: frozenset(
        {"Student", "SenStatusAssignment", "EligibilityRecord", "PostalAddressOccupancy"}
    ),
    Dataset.GROUPS: frozenset(
        {name for spec in GROUP_ENTITIES.values() for name in spec[:3] if name != "AcademicLevel"}
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
    """Facts no public source settles: each is also a plugin setting of the same name."""

    eligibility_codes: Mapping[str, str] = field(
        factory=lambda: {"fsm": "FSM", "eal": "EAL", "pupil_premium": "PP", "service_child": "SC"}
    )
    class_subject_path: str = "subject.subjectName"
    exam_subject_path: str = "candidateEntry.qualificationLearningUnit.displayName"
    exam_qualification_path: str = "candidateEntry.qualificationAward.displayName"
    exam_series_path: str = "candidateEntry.qualificationAvailabilityInstance.displayName"
    contact_types: Mapping[str, Mapping[str, str]] = field(factory=lambda: DEFAULT_CONTACT_TYPES)
    #: How many former staff (contracts ended) the school still holds, as Arbor keeps them.
    former_staff: int = 2


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
