"""cattrs converters: a lossless round trip between the model and plain JSON data.

Dates and datetimes become ISO 8601 strings, bytes become base64, enums their values.
The same converter serialises source records and whole :class:`SourceSchool` values
(simulators that run in another process, such as the SIMS stand-in, read them).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import cattrs

from misbridge.model import DATASET_TYPES, Deletion
from misbridge.source import SourceSchool

__all__ = [
    "converter",
    "dumps_school",
    "from_plain",
    "loads_school",
    "source_converter",
    "to_plain",
    "type_named",
]

T = TypeVar("T")

converter = cattrs.Converter()
converter.register_unstructure_hook(date, lambda d: d.isoformat())
converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
converter.register_unstructure_hook(bytes, lambda b: base64.b64encode(b).decode("ascii"))
converter.register_structure_hook(bytes, lambda v, _: base64.b64decode(v))


def _raw_date_structure(value: Any, _: Any) -> Any:
    # Source records keep raw vendor dates: ISO strings from our own dumps become dates
    # again, anything else (vendor strings, vendor date objects) stays as it was.
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else value
        except ValueError:
            return value
    return value


def _structure_raw(value: Any, _: Any) -> Any:
    return value


_MODEL_TYPES: dict[str, type] = {t.__name__: t for ts in DATASET_TYPES.values() for t in ts}
_MODEL_TYPES["Deletion"] = Deletion


def type_named(name: str) -> type:
    """A model class by its name (``"Student"``), for typed JSON Lines."""
    return _MODEL_TYPES[name]


def to_plain(value: Any) -> Any:
    return converter.unstructure(value)


def from_plain(data: Any, cls: type[T]) -> T:
    return converter.structure(data, cls)


def _school_converter() -> cattrs.Converter:
    # Raw source values are unions cattrs cannot disambiguate; our own dumps only ever
    # hold ISO dates, plain strings, booleans and ints, so structure them by shape.
    conv = converter.copy()
    from misbridge.source import RawDate, RawFlag

    conv.register_structure_hook_func(lambda t: t == RawDate, _raw_date_structure)
    conv.register_structure_hook_func(lambda t: t == RawFlag, _structure_raw)
    return conv


source_converter = _school_converter()


def dumps_school(school: SourceSchool) -> str:
    return json.dumps(source_converter.unstructure(school), separators=(",", ":"))


def loads_school(text: str | bytes | Mapping[str, Any]) -> SourceSchool:
    data = json.loads(text) if isinstance(text, (str, bytes)) else text
    return source_converter.structure(data, SourceSchool)
