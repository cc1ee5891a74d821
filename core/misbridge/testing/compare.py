"""Field-by-field comparison of model records, with readable differences.

Used by the conformance suite; also handy for a plugin author's own tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from misbridge.model import Assessment, ExamResult, Membership, Photo
from misbridge.result import ModelRecord

__all__ = ["blank_fields", "diff_records", "record_key"]


def record_key(record: ModelRecord) -> tuple[Any, ...]:
    """What identifies a record within its dataset (for pairing differences)."""
    name = type(record).__name__
    if isinstance(record, Membership):
        return (name, record.group_mis_id, record.person_mis_id, record.role)
    if isinstance(record, Photo):
        return (name, record.person_mis_id, record.role)
    if isinstance(record, Assessment):
        key = (record.subject, record.aspect, record.grade_type, record.term)
        return (name, record.student_mis_id, *key)
    if isinstance(record, ExamResult):
        return (name, record.student_mis_id, record.series, record.subject)
    return (name, record.mis_id)


def blank_fields(record: ModelRecord, unsupported: frozenset[str]) -> ModelRecord:
    """``record`` with every ``"Type.field"`` in ``unsupported`` reset to its default."""
    name = type(record).__name__
    changes: dict[str, Any] = {}
    for spec in unsupported:
        kind, _, field_name = spec.partition(".")
        if kind != name or not field_name or "." in field_name:
            continue  # a part of a field ("Student.sen.dates"): the suite's carried() case
        attribute = attrs.fields_dict(type(record))[field_name]
        default: Any = attribute.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        elif default is attrs.NOTHING:
            default = None
        changes[field_name] = default
    return attrs.evolve(record, **changes) if changes else record


def _field_diffs(expected: ModelRecord, actual: ModelRecord) -> list[str]:
    diffs = []
    for attribute in attrs.fields(type(expected)):
        want = getattr(expected, attribute.name)
        got = getattr(actual, attribute.name)
        if want != got:
            diffs.append(f"{attribute.name}: expected {want!r}, got {got!r}")
    return diffs


def diff_records(
    expected: Iterable[ModelRecord], actual: Iterable[ModelRecord], limit: int = 25
) -> list[str]:
    """Human-readable differences between two record collections (empty when equal).

    Records are compared as multisets; differing records are paired by
    :func:`record_key` to show which fields differ.
    """
    want = Counter(expected)
    got = Counter(actual)
    missing = want - got
    extra = got - want
    if not missing and not extra:
        return []
    extra_by_key: dict[tuple[Any, ...], list[ModelRecord]] = {}
    for record in extra.elements():
        extra_by_key.setdefault(record_key(record), []).append(record)
    lines: list[str] = []
    for record in missing.elements():
        key = record_key(record)
        candidates: Sequence[ModelRecord] = extra_by_key.get(key, [])
        if candidates:
            other = candidates[0]
            extra_by_key[key] = list(candidates[1:])
            lines.append(f"{key}: " + "; ".join(_field_diffs(record, other)))
        else:
            lines.append(f"{key}: missing from the extract")
    lines.extend(
        f"{key}: unexpected record {record!r}"
        for key, records in extra_by_key.items()
        for record in records
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more differences"]
    return lines
