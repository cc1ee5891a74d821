"""Where each Bromcom wire name comes from, and what else is known about it.

``misbridge bromcom wire-names`` prints these beside the names, and the table in
``docs/plugins/bromcom.md`` is that command's output (a test keeps them equal).
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["KNOWN_UNREAD", "Unread", "note_of", "source_of"]

#: Short names of the public sources; ``docs/plugins/bromcom.md`` gives their full paths.
DOTNET = "essentials-dotnet"  # jamesgurung/bromcom-essentials-dotnet src/ApiContracts.cs
HELPERS = "python-helpers"  # nickwatson/bromcom-python-helpers src/bromcom_helpers/timetables.py
ODATA = "BetterBromcom"  # awdimmick/BetterBromcom BromcomConnector/model.py (OData names)
PERMISSIONS = "Bromcom docs"  # docs.bromcom.com/knowledge-base/partner-api-integration
NONE = "none found"

#: Entity key -> the source of the entity and, unless listed below, of its fields.
_ENTITY: dict[str, str] = {
    "students": f"{DOTNET} StudentFlatViewContract; legacy: {ODATA} Students",
    "staff": f"{DOTNET} StaffContract; legacy: {ODATA} Staff",
    "years": f"{HELPERS} (calendarModelName); the entity name is inferred",
    "collections": f"{ODATA} Collections",
    "associates": f"{HELPERS} CollectionAssociates",
    "executives": f"{ODATA} CollectionExecutives",
    "subjects": f"{DOTNET} SubjectContract",
    "results": f"{DOTNET} AssessmentResultContract; legacy name: {PERMISSIONS}",
    "photos": f"a public client's People.cs (ImageDisplay.ashx); legacy: {PERMISSIONS}",
    "addresses": PERMISSIONS,
    "telephones": PERMISSIONS,
    "emails": PERMISSIONS,
    "sen": PERMISSIONS,
    "granted": f"{PERMISSIONS} (findEntitiesBySchoolID)",
}

#: What a field is verified by, when it is its entity's source (the legacy column names
#: of the flat view follow the OData feed).
_FIELD_DEFAULT: dict[str, str] = {
    "students": f"{DOTNET}; legacy: {ODATA}",
    "staff": f"{DOTNET}; legacy: {ODATA}",
    "results": DOTNET,
    "subjects": DOTNET,
}

_FIELD: dict[str, str] = {
    "students.person_id": f"{HELPERS} (student.person_id)",
    "students.fsm": NONE,
    "students.service_child": NONE,
    "students.admission_date": "the 'enrolment' filter prefix Partner API clients use",
    "students.leaving_date": "the 'enrolment' filter prefix Partner API clients use",
    "students.photo_id": NONE,
    "staff.gender": NONE,
    "staff.photo_id": NONE,
    "years.id": f"{HELPERS} (calendarModelID filter)",
    "associates.person_id": f"{HELPERS} (personID filter)",
    "years.start": NONE,
    "years.end": NONE,
    "collections.subject_id": NONE,
    "executives.start": NONE,
    "executives.end": NONE,
    "photos.person_id": NONE,
    "photos.photo": NONE,
    "type.registration": ODATA,
    "type.class": ODATA,
    "type.year": NONE,
    "type.house": NONE,
}

_NOTES: dict[str, str] = {
    "students.person_id": "distinct from studentId; CollectionAssociates.personId and "
    "the person-detail entities name pupils by it (student_join_key)",
    "students.fsm": "public flat views carry everFsm6Flag (FSM at any time in the last six "
    "years), not current FSM; set students.fsm=everFsm6Flag only if that is what you want",
    "students.service_child": "no public flat view carries a service-child flag",
    "staff.photo_id": "also unknown for students (students.photo_id)",
    "associates.person_id": "a pupil's person id; staff are executives (staffID = personID)",
}


def source_of(key: str) -> str:
    """The public source of a ``wire_names`` key (``students``, ``students.upn``, ...)."""
    if key in _FIELD:
        return _FIELD[key]
    entity, _, field = key.partition(".")
    if entity == "type":
        return NONE
    if field:
        return _FIELD_DEFAULT.get(entity, _ENTITY[entity])
    return _ENTITY[entity]


def note_of(key: str) -> str:
    return _NOTES.get(key, "")


@frozen
class Unread:
    """A verified name misbridge does not read (the model has no such field)."""

    entity: str
    partner: str
    meaning: str


#: Verified flat-view flags with no field in misbridge's model (so not read).
KNOWN_UNREAD: tuple[Unread, ...] = (
    Unread("students", "everFsm6Flag", "FSM at any time in the last six years (not current FSM)"),
    Unread("students", "inCareFlag", "looked after (in care)"),
    Unread("students", "gntFlag", "gifted and talented"),
    Unread("students", "examNumber", "exam candidate number"),
)
