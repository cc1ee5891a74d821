"""A canonical digest of records and errors, for tests that pin output exactly.

Any change to what misbridge produces for a fixed input (a value, a field, an error's
code or wording, the order of an ordered list) changes the digest; a refactor that keeps
the output keeps it. Records are dumped with their class name and every attrs field.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import attrs

from misbridge.errors import RecordError
from misbridge.result import ExtractResult


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data: attrs classes by name and fields, dates in ISO."""
    kind = type(value)
    if attrs.has(kind):
        out: dict[str, Any] = {"_type": kind.__name__}
        for field in attrs.fields(kind):
            out[field.name] = canonical(getattr(value, field.name))
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    return value


def dump(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


def digest(value: Any) -> str:
    return hashlib.sha256(dump(value).encode()).hexdigest()


def _sorted(items: Iterable[Any]) -> list[Any]:
    # Concurrent reads interleave a dataset's lists: compare as a sorted multiset.
    return sorted((canonical(i) for i in items), key=lambda c: json.dumps(c, sort_keys=True))


def extract_digest(result: ExtractResult) -> str:
    """A digest of an extract's records, deletions, errors and outcomes (timestamps and
    checkpoints left out: they change from run to run)."""
    errors: list[RecordError] = list(result.errors)
    return digest(
        {
            "mis": result.mis,
            "school": result.school,
            "records": {str(d): _sorted(rs) for d, rs in sorted(result.records.items())},
            "deletions": {str(d): _sorted(rs) for d, rs in sorted(result.deletions.items())},
            "errors": _sorted(errors),
            "outcomes": {str(d): canonical(o) for d, o in sorted(result.outcomes.items())},
        }
    )
