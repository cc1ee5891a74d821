"""The words a spreadsheet uses for group kinds and roles, the student fields read as
text, and how rows kept back from a sheet are reported."""

from __future__ import annotations

from misbridge.plugin import GroupKind, Role, SourceFormatError

__all__ = ["GROUP_KINDS", "ROLES", "STUDENT_TEXT", "Problems"]

GROUP_KINDS = {
    "class": GroupKind.CLASS,
    "teaching group": GroupKind.CLASS,
    "registration": GroupKind.REGISTRATION,
    "registration group": GroupKind.REGISTRATION,
    "registration form": GroupKind.REGISTRATION,
    "reg group": GroupKind.REGISTRATION,
    "tutor group": GroupKind.REGISTRATION,
    "form": GroupKind.REGISTRATION,
    "house": GroupKind.HOUSE,
    "year": GroupKind.YEAR,
    "year group": GroupKind.YEAR,
}
ROLES = {
    "student": Role.STUDENT,
    "pupil": Role.STUDENT,
    "learner": Role.STUDENT,
    "staff": Role.STAFF,
    "teacher": Role.STAFF,
    "tutor": Role.STAFF,
    "supervisor": Role.STAFF,
    "employee": Role.STAFF,
}
SAMPLE = 5


class Problems:
    """Rows kept back from one sheet, reported together when it ends."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.by_reason: dict[str, list[int]] = {}

    def add(self, reason: str, row: int) -> None:
        self.by_reason.setdefault(reason, []).append(row)

    def raise_any(self) -> None:
        if not self.by_reason:
            return
        parts = []
        for reason, rows in self.by_reason.items():
            shown = ", ".join(map(str, rows[:SAMPLE])) + (" ..." if len(rows) > SAMPLE else "")
            parts.append(f"{len(rows)} row(s) {reason} (rows {shown})")
        raise SourceFormatError(
            f"spreadsheet: {self.label}: " + "; ".join(parts) + ". Those rows were not read; "
            "the others were. Correct them in the MIS and export again",
            rows=sum(len(r) for r in self.by_reason.values()),
        )


STUDENT_TEXT = (
    "admission_number",
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "gender",
    "date_of_birth",
    "ethnicity",
    "eal",
    "fsm",
    "pupil_premium",
    "service_child",
    "year_group",
    "admission_date",
    "leaving_date",
    "directory_username",
)
