"""How a record is named in an error: the identifiers a data manager searches the MIS by.

Works on source records and model records alike (they share field names). Only
identifiers go into a label, never a name or a date of birth.
"""

from __future__ import annotations

__all__ = ["record_identity"]


def _id(value: object) -> str | None:
    # Source ids may carry the vendor's stray whitespace; errors name the id the model
    # holds (trimmed), so that an error and its record always agree.
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def record_identity(record: object) -> tuple[str | None, str]:
    """``(mis_id, label)`` for any source or model record."""

    def raw(name: str) -> object:
        return getattr(record, name)

    def get(name: str) -> str | None:
        return _id(raw(name))

    mis_id = _id(getattr(record, "mis_id", None))
    if hasattr(record, "admission_number"):  # a student
        admission = get("admission_number")
        if admission:
            return mis_id, f"admission number {admission}"
        return mis_id, f"student with MIS id {mis_id}"
    if hasattr(record, "staff_code"):  # a member of staff
        code = get("staff_code")
        if code:
            return mis_id, f"staff code {code}"
        return mis_id, f"staff member with MIS id {mis_id}"
    if hasattr(record, "group_mis_id"):  # a membership
        person = get("person_mis_id")
        return person, f"the membership of MIS id {person} in group MIS id {get('group_mis_id')}"
    if hasattr(record, "aspect"):  # an assessment result (before exam results: same id)
        student = get("student_mis_id")
        return student, f"an assessment result of student MIS id {student}"
    if hasattr(record, "student_mis_id"):  # an exam result
        student = get("student_mis_id")
        return student, f"an exam result of student MIS id {student}"
    if hasattr(record, "person_mis_id"):  # a photo
        person = get("person_mis_id")
        return person, f"the {raw('role')} with MIS id {person}"
    if hasattr(record, "kind"):  # a group: its name is not personal and finds it fastest
        name = get("name")
        kind = str(raw("kind")).replace("registration", "registration group")
        return mis_id, f"{kind} {name} (MIS id {mis_id})" if name else f"{kind} MIS id {mis_id}"
    if hasattr(record, "code") or hasattr(record, "start"):  # a year group or academic year
        name = get("name")
        what = "year group" if hasattr(record, "code") else "academic year"
        return mis_id, f"{what} {name} (MIS id {mis_id})" if name else f"{what} MIS id {mis_id}"
    return mis_id, f"MIS id {mis_id}"
