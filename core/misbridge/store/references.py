"""Resolving what a membership, photo or exam result points at.

A plan keeps one map from (id space, MIS id) to the internal id of a stored record, the
``new:`` reference of a record the plan creates, or :data:`REJECTED` for a record
rejected in this run (by the extract or by the store). Resolving is the hot path of an
unchanged night: one call per membership, tens of thousands of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from misbridge.model import Dataset, GroupKind, Role
from misbridge.store.kinds import IDENT_SEP, Kind
from misbridge.store.state import Row

__all__ = ["ENTITIES_OF_DATASET", "REJECTED", "Resolver", "pointing_at", "reference_resolver"]

#: Marks a record rejected in this run: what points at it is skipped, not reported.
REJECTED: Any = object()

Resolver = Callable[[Any], tuple[str, ...] | None]
#: Called with the record and what it points at ("student", "group"...) when that is
#: unknown, or None when that was itself rejected.
OnMissing = Callable[[Any, str | None], None]

# Enum members hash in Python; their ``_value_`` strings hash in C, hence str keys.
_PERSON = {Role.STUDENT.value: "student", Role.STAFF.value: "staff"}
_GROUP_ENTITY = {
    k.value: "year_group" if k is GroupKind.YEAR else f"group.{k.value}" for k in GroupKind
}
_WHAT = {
    "student": "student",
    "staff": "member of staff",
    "year_group": "year group",
    "group": "group",
}
#: The id spaces a record error of each dataset may name.
ENTITIES_OF_DATASET = {
    Dataset.STUDENTS.value: ("student",),
    Dataset.STAFF.value: ("staff",),
    Dataset.GROUPS.value: tuple(f"group.{k.value}" for k in GroupKind if k is not GroupKind.YEAR),
    Dataset.YEARS.value: ("year_group", "academic_year"),
}


def reference_resolver(
    kind: Kind, resolved: Mapping[tuple[str, str], Any], missing: OnMissing
) -> Resolver:
    """A function giving the internal ids (or new refs) a dependent record points at, in
    ``kind.ref_columns`` order, or None (after telling ``missing``) when one is unknown."""

    def report(record: Any, *targets: tuple[str, Any]) -> None:
        if any(ref is REJECTED for _, ref in targets):
            missing(record, None)
            return
        for what, ref in targets:
            if ref is None:
                missing(record, _WHAT["group" if what.startswith("group.") else what])
                return

    def membership(record: Any) -> tuple[str, ...] | None:
        kind_, role = record.group_kind._value_, record.role._value_
        entity, person_entity = _GROUP_ENTITY[kind_], _PERSON[role]
        group = resolved.get((entity, record.group_mis_id))
        person = resolved.get((person_entity, record.person_mis_id))
        if type(group) is str and type(person) is str:
            return (kind_, group, person, role)
        report(record, (entity, group), (person_entity, person))
        return None

    def photo(record: Any) -> tuple[str, ...] | None:
        role = record.role._value_
        person = resolved.get((_PERSON[role], record.person_mis_id))
        if type(person) is str:
            return (person, role)
        report(record, (_PERSON[role], person))
        return None

    def exam_result(record: Any) -> tuple[str, ...] | None:
        student = resolved.get(("student", record.student_mis_id))
        if type(student) is str:
            return (student,)
        report(record, ("student", student))
        return None

    return {"membership": membership, "photo": photo}.get(kind.name, exam_result)


_REFERENCES = frozenset({"group_id", "person_id", "student_id"})


def pointing_at(kind: Kind, rows: Iterable[tuple[str, Row]], targets: set[str]) -> set[str]:
    """The stored dependent rows (of ``kind``) that point at one of ``targets``."""
    if not targets:
        return set()
    positions = [i for i, c in enumerate(kind.key_columns) if c in _REFERENCES]
    found: set[str] = set()
    for rid, row in rows:
        parts = (row.ident or "").split(IDENT_SEP)
        if any(i < len(parts) and parts[i] in targets for i in positions):
            found.add(rid)
    return found
