"""Field selections: one description of what the plugin reads, for GraphQL and REST.

A :data:`Spec` is a nested dict of property names (``{"id": None, "person": {"gender":
{"code": None}}}``). It is rendered as a GraphQL selection set, and the REST reader
walks the same spec over REST objects, so both modes read exactly the same fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias

__all__ = ["Spec", "graphql_query", "merge_spec", "path_spec", "pluck", "with_revisions"]

Spec: TypeAlias = Mapping[str, "Spec | None"]

_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _name(text: str) -> str:
    # Settings name fields by path; refuse anything that is not a GraphQL name, so a
    # setting can never inject query syntax.
    if not text or text[0].isdigit() or not set(text) <= _NAME_OK:
        raise ValueError(f"{text!r} is not a GraphQL field name")
    return text


def path_spec(path: str) -> dict[str, Any]:
    """``"a.b.c"`` -> ``{"a": {"b": {"c": None}}}`` (empty path -> empty spec)."""
    if not path:
        return {}
    spec: dict[str, Any] | None = None
    # Every step is checked, so "a." or "a..b" is refused rather than shortened.
    for step in reversed([_name(step) for step in path.split(".")]):
        spec = {step: spec}
    assert spec is not None
    return spec


def merge_spec(*specs: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        for key, value in spec.items():
            if isinstance(value, Mapping):
                existing = out.get(key)
                out[key] = merge_spec(existing if isinstance(existing, Mapping) else {}, value)
            else:
                out.setdefault(key, None)
    return out


def _selection(spec: Spec) -> str:
    parts = []
    for key, value in spec.items():
        parts.append(f"{_name(key)} {{ {_selection(value)} }}" if value else _name(key))
    return " ".join(parts)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(str(value))  # a GraphQL string literal has JSON's escapes


def graphql_query(entity: str, spec: Spec, args: Mapping[str, Any]) -> str:
    arguments = ", ".join(f"{_name(k)}: {_literal(v)}" for k, v in args.items())
    return f"query {{ {_name(entity)}({arguments}) {{ {_selection(spec)} }} }}"


def pluck(record: Any, path: str) -> Any:
    """The value at a dotted path, or None where any step is missing."""
    for step in path.split(".") if path else ():
        if not isinstance(record, Mapping):
            return None
        record = record.get(step)
    return record


def with_revisions(spec: Spec) -> dict[str, Any]:
    """The spec with ``revisionId`` (an Arbor special key) on every object it reads."""
    out: dict[str, Any] = {"revisionId": None}
    for key, value in spec.items():
        out[key] = with_revisions(value) if value else None
    return out
