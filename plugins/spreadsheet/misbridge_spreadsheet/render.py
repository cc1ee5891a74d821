"""A school (source records) -> the rows of each sheet of a mapping: what an MIS export
of it would hold. The simulator writes these rows as CSV or XLSX files.

Driven by the mapping itself, so the headers are the mapping's: a sheet with a ``key``
stacks a person's addresses, telephones, emails and SEN statuses one per row (the main
columns repeated, as a report's rows are); a constant (``{ value = "class" }``) keeps
only the records that have it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import Enum
from typing import Any

from misbridge.plugin import SourceGroup, SourceSchool, canonical_type
from misbridge_spreadsheet.mapping import Column, Constant, ContactGroup, Sheet, Spec

__all__ = ["Value", "sheet_rows"]

Value = str | bool | date | None

_SOURCE = {
    "academic_year": "academic_years",
    "year_group": "year_groups",
    "staff": "staff",
    "student": "students",
    "group": "groups",
    "membership": "memberships",
    "assessment": "assessments",
}
_ATTR = {"student": "student_mis_id"}  # mapping field -> source attribute, where they differ


def _plain(value: Any) -> Value:
    if isinstance(value, Enum):
        return str(value.value)
    if value is None or isinstance(value, str | bool | date):
        return value
    return str(value)


def _matches(record: Any, columns: dict[str, Spec]) -> bool:
    for field, spec in columns.items():
        if isinstance(spec, Constant):
            value = _plain(getattr(record, _ATTR.get(field, field), None))
            if str(value).casefold() != spec.value.casefold():
                return False
    return True


def _contact_cells(group: ContactGroup, entry: Any) -> dict[str, Value]:
    cells: dict[str, Value] = {}
    for field, spec in group.fields.items():
        if isinstance(spec, Column):
            cells[spec.name] = _plain(getattr(entry, field, None)) if entry is not None else None
    if group.lines:
        lines = list(entry.lines) if entry is not None else []
        if len(group.lines) == 1:
            cells[group.lines[0].name] = "\n".join(lines) or None
        else:
            *first, last = group.lines
            for i, column in enumerate(first):
                cells[column.name] = lines[i] if i < len(lines) else None
            rest = lines[len(first) :]
            cells[last.name] = ", ".join(rest) or None
    return cells


def _entries(group: ContactGroup, record: Any) -> list[Any]:
    entries = list(getattr(record, group.kind if group.kind != "sen" else "sen", ()))
    spec = group.fields.get("type")
    if isinstance(spec, Constant):
        wanted = canonical_type(spec.value)
        entries = [e for e in entries if canonical_type(e.type) == wanted]
    return entries


def _record_rows(sheet: Sheet, record: Any) -> Iterator[dict[str, Value]]:
    main = {
        spec.name: _plain(getattr(record, _ATTR.get(f, f), None))
        for f, spec in sheet.columns.items()
        if isinstance(spec, Column)
    }
    per_group = [(g, _entries(g, record)) for g in sheet.groups]
    height = max([1, *(len(e) for _, e in per_group)]) if sheet.key else 1
    for i in range(height):
        row = dict(main)
        for group, entries in per_group:
            row.update(_contact_cells(group, entries[i] if i < len(entries) else None))
        yield row


def _memberships(sheet: Sheet, school: SourceSchool) -> Iterator[dict[str, Value]]:
    groups = {(g.kind, g.mis_id): g for g in school.groups}
    for member in school.memberships:
        if not _matches(member, dict(sheet.columns)):
            continue
        group: SourceGroup | None = groups.get((member.group_kind, member.group_mis_id))
        row: dict[str, Value] = {}
        for field, spec in sheet.columns.items():
            if not isinstance(spec, Column):
                continue
            if field.startswith("group_") and field != "group_mis_id" and field != "group_kind":
                row[spec.name] = _plain(getattr(group, field[6:], None)) if group else None
            else:
                row[spec.name] = _plain(getattr(member, field, None))
        yield row


def _marksheet(sheet: Sheet, school: SourceSchool) -> tuple[list[str], list[dict[str, Value]]]:
    aspects = list(dict.fromkeys(a.aspect or "" for a in school.assessments))
    rows: dict[tuple[Value, ...], dict[str, Value]] = {}
    names = {f: s.name for f, s in sheet.columns.items() if isinstance(s, Column)}
    for grade in school.assessments:
        key = (grade.student_mis_id, grade.term, _plain(grade.result_date))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {}
            for field, value in zip(("student", "term", "result_date"), key, strict=True):
                if field in names:
                    row[names[field]] = _plain(value)
        row[grade.aspect or ""] = grade.result
    return aspects, list(rows.values())


def sheet_rows(sheet: Sheet, school: SourceSchool) -> tuple[list[str], list[list[Value]]]:
    """The header and rows of ``sheet`` for ``school``."""
    header = list(sheet.column_names())
    if sheet.record == "marksheet":
        aspects, dicts = _marksheet(sheet, school)
        header += [a for a in aspects if a not in header]
    elif sheet.record == "membership":
        dicts = list(_memberships(sheet, school))
    else:
        records = getattr(school, _SOURCE[sheet.record])
        dicts = [
            row
            for r in records
            if _matches(r, dict(sheet.columns))
            for row in _record_rows(sheet, r)
        ]
    return header, [[d.get(h) for h in header] for d in dicts]
