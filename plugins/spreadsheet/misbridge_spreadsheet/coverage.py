"""What a mapping's files cannot carry, as :class:`~misbridge.hooktypes.FieldCoverage`
names: a sync then never empties a stored value because the spreadsheet had no column
for it (a flat export blanking what SIMS filled in)."""

from __future__ import annotations

from collections.abc import Mapping

from misbridge.plugin import DATASET_TYPES, ConfigurationError, canonical_type
from misbridge_spreadsheet.mapping import Column, Constant, ContactGroup, Sheet, SheetMapping

__all__ = ["lacks_of", "lacks_of_settings"]

_MODEL = {
    "academic_year": "AcademicYear",
    "year_group": "YearGroup",
    "staff": "StaffMember",
    "student": "Student",
    "group": "Group",
    "membership": "Membership",
    "assessment": "Assessment",
    "marksheet": "Assessment",
}
#: Stored fields carried straight from one mapped field of the same name.
_PLAIN = {
    "AcademicYear": ("name", "start", "end"),
    "YearGroup": ("name", "start", "end"),
    "StaffMember": ("title", "forename", "surname", "gender", "staff_code"),
    "Student": (
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
    ),
    "Group": ("name", "subject", "code"),
    "Membership": ("start", "end"),
    "Assessment": ("subject", "grade_type", "term", "result_date"),
}


def _types(groups: list[ContactGroup], kind: str) -> set[str | None]:
    """The contact types (H, M, W) the groups of ``kind`` can carry; None: any."""
    found: set[str | None] = set()
    for group in groups:
        if group.kind != kind:
            continue
        spec = group.fields.get("type")
        found.add(canonical_type(spec.value) if isinstance(spec, Constant) else None)
    return found


def _carried(sheet: Sheet, settings: Mapping[str, str]) -> set[str]:
    model = _MODEL[sheet.record]
    mapped = set(sheet.columns)
    carried = {f for f in _PLAIN[model] if f in mapped}
    if sheet.record == "year_group" and ("code" in mapped or "name" in mapped):
        carried.add("code")  # the NC year is read from the name when there is no code
    if sheet.record == "marksheet":
        if sheet.grade_words or any(a.grade_type for a in sheet.aspects):
            carried.add("grade_type")
        if sheet.grade_words or any(a.subject for a in sheet.aspects):
            carried.add("subject")
        if "term" in mapped or settings.get("term"):
            carried.add("term")
        if "result_date" in mapped or settings.get("assessed_on"):
            carried.add("result_date")
    groups = list(sheet.groups)
    emails = _types(groups, "emails")
    if model == "Student":
        if _types(groups, "addresses") & {None, "H"}:
            carried.add("home_address")
        phones = _types(groups, "telephones")
        if phones & {None, "H"}:
            carried.add("home_telephone")
        if phones & {None, "M"}:
            carried.add("mobile_telephone")
        if emails & {None, "H"}:
            carried.add("personal_email")
        if emails & {None, "W"}:
            carried.add("work_email")
        sen = [g for g in groups if g.kind == "sen"]
        if sen:
            carried.add("sen")
            if all("start" in g.fields or "end" in g.fields for g in sen):
                carried.add("sen.dates")
            if sheet.key:
                carried.add("sen.history")
    if model == "StaffMember" and emails:
        carried.add("work_email")
    return carried


def lacks_of(mapping: SheetMapping, settings: Mapping[str, str] | None = None) -> frozenset[str]:
    """The ``"Type.field"`` (and whole ``"Type"``) names the mapping's files lack."""
    settings = settings or {}
    carried: dict[str, set[str]] = {}
    for sheet in mapping.sheets:
        carried.setdefault(_MODEL[sheet.record], set()).update(_carried(sheet, settings))
        if sheet.record == "membership" and isinstance(sheet.columns.get("group_name"), Column):
            carried.setdefault("Group", set()).update(
                f for f in ("name", "subject", "code") if f"group_{f}" in sheet.columns
            )
    lacks: set[str] = set()
    for dataset in mapping.datasets:
        for model_type in DATASET_TYPES[dataset]:
            name = model_type.__name__
            if name not in carried:
                lacks.add(name)
                continue
            fields = (*_PLAIN[name], *_EXTRA.get(name, ()))
            lacks.update(f"{name}.{f}" for f in fields if f not in carried[name])
            if name == "Student" and "sen" in carried[name]:
                lacks.update(
                    f"Student.{f}" for f in ("sen.dates", "sen.history") if f not in carried[name]
                )
    return frozenset(lacks)


_EXTRA = {
    "YearGroup": ("code",),
    "StaffMember": ("work_email",),
    "Student": (
        "sen",
        "home_address",
        "home_telephone",
        "mobile_telephone",
        "personal_email",
        "work_email",
    ),
}


def lacks_of_settings(settings: Mapping[str, str]) -> frozenset[str]:
    """:attr:`FieldCoverage.derive` for this plugin: the lacks of the mapping the
    settings name (the built-in ``misbridge`` mapping when they name none)."""
    from misbridge_spreadsheet.mapping import load_mapping

    name = settings.get("mapping") or "misbridge"
    try:
        return lacks_of(load_mapping(name), settings)
    except ConfigurationError:
        raise
    except OSError as exc:
        raise ConfigurationError(
            f"spreadsheet: the mapping {name!r} could not be read ({type(exc).__name__})",
            setting="mapping",
        ) from None
