"""Bromcom's wire vocabulary: entity and field names in each of the two modes we speak.

Both the plugin and the simulator read names from here, so they can never drift apart.
Each name is marked with how we know it, and :mod:`.wire_sources` says from where:

- ``V``: verified in public code that talks to the real API (jamesgurung/bromcom-
  essentials-dotnet, nickwatson/bromcom-python-helpers, awdimmick/BetterBromcom) or in
  Bromcom's own documentation;
- ``I``: inferred (camelCase of a verified name, a filter prefix, a sibling entity);
- ``U``: unknown: no public source names it.

Every ``I`` and ``U`` name can be changed without a code change through the
``wire_names`` setting (``"students.fsm=freeMealsFlag,type.house=HSE"``); the simulator
takes the same overrides, and ``docs/plugins/bromcom.md`` lists every key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import frozen

from misbridge.plugin import ConfigurationError

__all__ = ["ENTITIES", "GROUP_TYPES", "Entity", "Mode", "Vocabulary", "parse_overrides"]


class Mode(enum.StrEnum):
    PARTNER = "partner"  # Partner Data API 2.0: REST/JSON, application id and secret
    SOAP = "soap"  # legacy Third Party Read Only Data Service: per-school user and password


@frozen
class Entity:
    """One entity: its name in each mode and its fields ``logical -> (partner, soap, how)``."""

    key: str
    partner: str
    soap: str
    how: str
    fields: Mapping[str, tuple[str, str, str]]


ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity(
            "students",
            "StudentFlatView",
            "Students",
            "V",
            {
                "id": ("studentId", "StudentId", "V"),
                "person_id": ("personId", "PersonID", "I"),
                "admission_number": ("admissionNumber", "AdmissionNumber", "V"),
                "upn": ("upn", "UPN", "V"),
                "legal_forename": ("firstName", "LegalFirstName", "V"),
                "legal_surname": ("lastName", "LegalLastName", "V"),
                "preferred_forename": ("preferredFirstName", "PreferredFirstName", "V"),
                "preferred_surname": ("preferredLastName", "PreferredLastName", "V"),
                "gender": ("genderCode", "Gender", "V"),
                "date_of_birth": ("dateOfBirth", "DateOfBirth", "V"),
                "ethnicity": ("ethnicityCode", "EthnicityCode", "V"),
                "eal": ("ealFlag", "EAL", "V"),
                "fsm": ("fsmFlag", "FSM", "U"),
                "pupil_premium": ("premiumPupilFlag", "PupilPremium", "V"),
                "service_child": ("serviceChildFlag", "ServiceChild", "U"),
                "sen": ("provisionName", "Provision", "V"),
                "year_group": ("yearGroup", "YearGroup", "V"),
                "tutor_group": ("tutorGroupName", "TutorGroup", "V"),
                "admission_date": ("enrolmentStartDate", "DateOfEntry", "I"),
                "leaving_date": ("enrolmentEndDate", "DateOfLeaving", "I"),
                "enrolment_state": ("enrolmentStateName", "EnrolmentStatus", "V"),
                "email": ("studentEmail", "Email", "V"),
                "photo_id": ("photoId", "PhotoId", "U"),
            },
        ),
        Entity(
            "staff",
            "Staff",
            "Staff",
            "V",
            {
                "id": ("staffId", "StaffId", "V"),
                "title": ("title", "Title", "V"),
                "forename": ("firstName", "LegalFirstName", "V"),
                "surname": ("lastName", "LegalLastName", "V"),
                "preferred_forename": ("preferredFirstName", "PreferredFirstName", "V"),
                "preferred_surname": ("preferredLastName", "PreferredLastName", "V"),
                "gender": ("genderCode", "Gender", "U"),
                "work_email": ("workEmail", "WorkEmail", "V"),
                "staff_code": ("staffCode", "StaffCode", "V"),
                "job_title": ("jobTitle", "JobTitle", "V"),
                "photo_id": ("photoId", "PhotoId", "U"),
            },
        ),
        Entity(
            "years",
            "CalendarModels",
            "CalendarModels",
            "I",
            {
                "id": ("calendarModelId", "CalendarModelID", "I"),
                "name": ("calendarModelName", "CalendarModelName", "V"),
                "start": ("startDate", "StartDate", "U"),
                "end": ("endDate", "EndDate", "U"),
            },
        ),
        Entity(
            "collections",
            "Collections",
            "Collections",
            "I",
            {
                "id": ("collectionId", "CollectionID", "V"),
                "name": ("collectionName", "CollectionName", "V"),
                "description": ("collectionDescription", "CollectionDescription", "V"),
                "type": ("collectionTypeName", "CollectionTypeName", "V"),
                "start": ("startDate", "StartDate", "V"),
                "end": ("endDate", "EndDate", "V"),
                "subject_id": ("subjectId", "SubjectID", "U"),
            },
        ),
        Entity(
            "associates",
            "CollectionAssociates",
            "CollectionAssociates",
            "V",
            {
                "collection_id": ("collectionId", "CollectionID", "V"),
                "collection_name": ("collectionName", "CollectionName", "V"),
                "person_id": ("personId", "PersonID", "V"),
                "start": ("startDate", "StartDate", "V"),
                "end": ("endDate", "EndDate", "V"),
            },
        ),
        Entity(
            "executives",
            "CollectionExecutives",
            "CollectionExecutives",
            "V",
            {
                "collection_id": ("collectionId", "CollectionID", "V"),
                "staff_id": ("staffId", "StaffID", "V"),
                "role": ("collectionRoleTypeDescription", "CollectionRoleTypeDescription", "V"),
                "start": ("startDate", "StartDate", "U"),
                "end": ("endDate", "EndDate", "U"),
            },
        ),
        Entity(
            "subjects",
            "Subjects",
            "Subjects",
            "V",
            {
                "id": ("subjectId", "SubjectID", "V"),
                "code": ("abbreviation", "Abbreviation", "V"),
                "name": ("subjectName", "SubjectName", "V"),
            },
        ),
        Entity(
            "results",
            "AssociationAssessmentResultsRaw",
            "AssociationAssessmentResults",
            "V",
            {
                "student_id": ("studentId", "StudentID", "V"),
                "type": ("assessmentTypeName", "AssessmentTypeName", "V"),
                "result": ("result", "Result", "V"),
                "entered": ("enteredDate", "EnteredDate", "V"),
                "term": ("termName", "TermName", "V"),
                "year_group": ("yearGroupName", "YearGroupName", "V"),
                "subject": ("subjectName", "SubjectName", "V"),
                "is_grade": ("isGrade", "IsGrade", "V"),
            },
        ),
        Entity(
            # Only the legacy service serves photos as an entity; the Partner API serves
            # them from ImageDisplay.ashx by the people's photo ids.
            "photos",
            "ImageDisplay.ashx",
            "PersonPhotos",
            "V",
            {
                "person_id": ("", "PersonID", "U"),
                "photo": ("", "Photo", "U"),
            },
        ),
        # The legacy service's person-detail entities (names from the Third Party Access
        # Permissions list); no public source shows their columns. The Partner API's
        # equivalents are not known, so the Partner mode does not read them.
        Entity(
            "addresses",
            "",
            "PersonAddresses",
            "V",
            {
                "person_id": ("", "PersonID", "U"),
                "type": ("", "AddressType", "U"),
                "line1": ("", "AddressLine1", "U"),
                "line2": ("", "AddressLine2", "U"),
                "line3": ("", "AddressLine3", "U"),
                "town": ("", "Town", "U"),
                "postcode": ("", "PostCode", "U"),
                "start": ("", "StartDate", "U"),
            },
        ),
        Entity(
            "telephones",
            "",
            "PersonTelephones",
            "V",
            {
                "person_id": ("", "PersonID", "U"),
                "type": ("", "TelephoneType", "U"),
                "number": ("", "TelephoneNumber", "U"),
                "primary": ("", "IsPrimary", "U"),
                "main": ("", "IsMain", "U"),
            },
        ),
        Entity(
            "emails",
            "",
            "Emails",
            "V",
            {
                "person_id": ("", "PersonID", "U"),
                "type": ("", "EmailType", "U"),
                "address": ("", "EmailAddress", "U"),
                "primary": ("", "IsPrimary", "U"),
                "main": ("", "IsMain", "U"),
            },
        ),
        Entity(
            "sen",
            "",
            "SENStudents",
            "V",
            {
                "student_id": ("", "StudentID", "U"),
                "provision": ("", "SENProvision", "U"),
                "start": ("", "StartDate", "U"),
                "end": ("", "EndDate", "U"),
            },
        ),
        Entity(
            # findEntitiesBySchoolID's answer (the legacy permission list).
            "granted",
            "",
            "findEntitiesBySchoolID",
            "V",
            {"name": ("", "EntityName", "V")},
        ),
    )
}

#: Collection type codes, per group kind. TUTORGRP and CLASS are verified (OData feed).
GROUP_TYPES: dict[str, tuple[str, str]] = {
    "year": ("YEARGRP", "U"),
    "registration": ("TUTORGRP", "V"),
    "class": ("CLASS", "V"),
    "house": ("HOUSE", "U"),
}


def parse_overrides(text: str | None) -> dict[str, str]:
    """``"students.fsm=fsmInd, type.house=HSE"`` -> a dict, refusing unknown keys."""
    overrides: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise ConfigurationError(
                f"bromcom: wire_names entry {item.strip()!r} is not 'key=name'",
                mis="bromcom",
                setting="wire_names",
            )
        overrides[key] = value
    Vocabulary(Mode.PARTNER, overrides)  # validates the keys
    return overrides


class Vocabulary:
    """The names to use on the wire for one mode, after overrides."""

    def __init__(self, mode: Mode, overrides: Mapping[str, str] | None = None) -> None:
        self.mode = mode
        overrides = dict(overrides or {})
        known = self.keys()
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigurationError(
                f"bromcom: unknown wire_names key(s) {', '.join(unknown)}; "
                "see docs/plugins/bromcom.md for the list",
                mis="bromcom",
                setting="wire_names",
            )
        side = 0 if mode is Mode.PARTNER else 1
        self._entities = {
            key: overrides.get(key, e.partner if side == 0 else e.soap)
            for key, e in ENTITIES.items()
        }
        self._fields = {
            (key, name): overrides.get(f"{key}.{name}", spec[side])
            for key, e in ENTITIES.items()
            for name, spec in e.fields.items()
        }
        self._types = {kind: overrides.get(f"type.{kind}", t[0]) for kind, t in GROUP_TYPES.items()}

    @staticmethod
    def keys() -> frozenset[str]:
        """Every key ``wire_names`` accepts."""
        keys = set(ENTITIES)
        keys |= {f"{k}.{f}" for k, e in ENTITIES.items() for f in e.fields}
        keys |= {f"type.{kind}" for kind in GROUP_TYPES}
        return frozenset(keys)

    def entity(self, key: str) -> str:
        return self._entities[key]

    def serves(self, key: str) -> bool:
        """Whether this mode has the entity at all (the Partner API has no PersonAddresses)."""
        return bool(self._entities[key]) and any(self.fields(key).values())

    def field(self, entity: str, name: str) -> str:
        return self._fields[(entity, name)]

    def fields(self, entity: str) -> dict[str, str]:
        """``logical -> wire`` for one entity."""
        return {name: self._fields[(entity, name)] for name in ENTITIES[entity].fields}

    def group_type(self, kind: str) -> str:
        return self._types[kind]

    def kind_of_type(self) -> dict[str, str]:
        """``collection type code (upper case) -> group kind``."""
        return {code.upper(): kind for kind, code in self._types.items()}
