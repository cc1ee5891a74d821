"""Column mappings: which column of which exported file fills which source field.

A mapping is a TOML file (read with :mod:`tomllib`), one per MIS export layout. Its
``[[sheets]]`` each name a file (by name, without extension: ``Students`` finds
``Students.csv``, ``students.xlsx``...) or a worksheet, the record it holds, and its
columns: a text is a column header, ``{ value = "H" }`` a constant. ``docs/plugins/
spreadsheet.md`` describes every key; the built-in mappings live in ``mappings/``.

Loading checks everything a mapping can get wrong (an unknown record or field, a
missing required field, a file name with a path in it) and names the mapping, the
sheet and the key in the error.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import frozen

from misbridge.plugin import ConfigurationError, Dataset

__all__ = [
    "BUILTIN",
    "Aspect",
    "Column",
    "Constant",
    "ContactGroup",
    "Sheet",
    "SheetMapping",
    "Spec",
    "builtin_names",
    "load_mapping",
    "parse_mapping",
]


@frozen
class Column:
    """A value read from the column with this header."""

    name: str


@frozen
class Constant:
    """The same value for every row (a file that holds only classes: kind "class")."""

    value: str


Spec = Column | Constant

#: The fields each record may map, besides its contact groups.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "academic_year": ("mis_id", "name", "start", "end"),
    "year_group": ("mis_id", "name", "code", "start", "end"),
    "staff": ("mis_id", "title", "forename", "surname", "gender", "staff_code"),
    "student": (
        "mis_id",
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
    ),
    "group": ("mis_id", "name", "kind", "subject", "code"),
    "membership": (
        "group_mis_id",
        "group_kind",
        "person_mis_id",
        "role",
        "start",
        "end",
        "group_name",
        "group_subject",
        "group_code",
    ),
    "assessment": ("student", "aspect", "result", "grade_type", "subject", "term", "result_date"),
    "marksheet": ("student", "term", "result_date"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "academic_year": ("mis_id", "name", "start", "end"),
    "year_group": ("mis_id",),
    "staff": ("mis_id",),
    "student": ("mis_id",),
    "group": ("mis_id", "name", "kind"),
    "membership": ("group_mis_id", "group_kind", "person_mis_id", "role"),
    "assessment": ("student", "aspect", "result"),
    "marksheet": ("student",),
}
RECORD_DATASET: dict[str, Dataset] = {
    "academic_year": Dataset.YEARS,
    "year_group": Dataset.YEARS,
    "staff": Dataset.STAFF,
    "student": Dataset.STUDENTS,
    "group": Dataset.GROUPS,
    "membership": Dataset.GROUPS,
    "assessment": Dataset.ASSESSMENTS,
    "marksheet": Dataset.ASSESSMENTS,
}
#: Contact groups: several per record when the sheet has a ``key`` (one per row).
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "addresses": ("type", "lines", "postcode", "start"),
    "telephones": ("type", "number", "primary", "main"),
    "emails": ("type", "address", "primary", "main"),
    "sen": ("code", "start", "end"),
}
RECORD_GROUPS: dict[str, tuple[str, ...]] = {
    "student": ("addresses", "telephones", "emails", "sen"),
    "staff": ("emails",),
}
GROUP_VALUE: dict[str, str] = {
    "addresses": "lines",
    "telephones": "number",
    "emails": "address",
    "sen": "code",
}
PERSON_KEYS = {"student": ("mis_id", "admission_number", "upn"), "staff": ("mis_id", "staff_code")}
BUILTIN = ("misbridge", "sims", "arbor", "bromcom")
# A bare name: no folder, no drive, nothing that walks out of the export folder.
_BARE = re.compile(r"^[^/\\:\x00]{1,200}$")


@frozen
class ContactGroup:
    """Columns making one address, telephone, email or SEN status per row."""

    kind: str
    fields: Mapping[str, Spec]
    lines: tuple[Column, ...] = ()


@frozen
class Aspect:
    """A marksheet column that holds grades."""

    column: str
    subject: str | None = None
    grade_type: str | None = None


@frozen
class Sheet:
    record: str
    file: str
    columns: Mapping[str, Spec]
    sheet: str | None = None
    key: str | None = None
    header_row: int = 1
    delimiter: str | None = None
    groups: tuple[ContactGroup, ...] = ()
    aspects: tuple[Aspect, ...] = ()
    other_columns: str = "ignore"
    grade_words: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    student_key: str = "mis_id"
    staff_key: str = "mis_id"

    @property
    def dataset(self) -> Dataset:
        return RECORD_DATASET[self.record]

    @property
    def label(self) -> str:
        return f"{self.file}" + (f" (sheet {self.sheet!r})" if self.sheet else "")

    def specs(self) -> Iterator[tuple[str, Spec]]:
        """Every (field, spec) the sheet reads, contact groups included."""
        yield from self.columns.items()
        for group in self.groups:
            yield from ((f"{group.kind}.{k}", v) for k, v in group.fields.items())
            yield from ((f"{group.kind}.lines", c) for c in group.lines)

    def column_names(self) -> tuple[str, ...]:
        names = [s.name for _, s in self.specs() if isinstance(s, Column)]
        names += [a.column for a in self.aspects]
        if self.key and self.key not in names:
            names.insert(0, self.key)
        return tuple(dict.fromkeys(names))


@frozen
class SheetMapping:
    name: str
    title: str
    sheets: tuple[Sheet, ...]
    source: str = ""
    inferred: tuple[str, ...] = ()

    def sheets_for(self, dataset: Dataset) -> tuple[Sheet, ...]:
        return tuple(s for s in self.sheets if s.dataset is dataset)

    @property
    def datasets(self) -> tuple[Dataset, ...]:
        return tuple(d for d in Dataset if self.sheets_for(d))


def builtin_names() -> tuple[str, ...]:
    return BUILTIN


def _builtin_text(name: str) -> str:
    return (resources.files("misbridge_spreadsheet") / "mappings" / f"{name}.toml").read_text(
        encoding="utf-8"
    )


def load_mapping(name_or_path: str) -> SheetMapping:
    """A built-in mapping by name, or a mapping file by path."""
    wanted = name_or_path.strip()
    if wanted.lower() in BUILTIN:
        return parse_mapping(_builtin_text(wanted.lower()), wanted.lower())
    path = Path(wanted).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"spreadsheet: {wanted!r} is neither a built-in mapping ({', '.join(BUILTIN)}) nor "
            "a mapping file; 'misbridge spreadsheet map FILE' proposes one from a file's headers",
            setting="mapping",
        )
    if path.stat().st_size > 1024 * 1024:
        raise ConfigurationError(f"spreadsheet: the mapping file {wanted!r} is over 1 MiB")
    return parse_mapping(path.read_text(encoding="utf-8"), str(path))


class _Where:
    def __init__(self, mapping: str) -> None:
        self.mapping = mapping

    def fail(self, where: str, problem: str) -> ConfigurationError:
        return ConfigurationError(
            f"spreadsheet: the mapping {self.mapping!r}, {where}: {problem}", setting="mapping"
        )


def _spec(raw: object, where: str, key: str, w: _Where) -> Spec:
    if isinstance(raw, str) and raw.strip():
        return Column(raw.strip())
    if isinstance(raw, dict) and set(raw) == {"value"} and isinstance(raw["value"], str):
        return Constant(raw["value"])
    raise w.fail(where, f'{key} must be a column header (text) or {{ value = "..." }}')


def _text(raw: Mapping[str, Any], key: str, where: str, w: _Where) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise w.fail(where, f"{key} must be a non-empty text")
    return value.strip()


def _words(raw: Mapping[str, Any], key: str, where: str, w: _Where) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise w.fail(where, f"{key} must be a list of texts")
    return tuple(v.strip() for v in value)


def _group(kind: str, raw: object, where: str, w: _Where) -> ContactGroup:
    if not isinstance(raw, dict):
        raise w.fail(where, f"{kind} entries must be tables")
    unknown = set(raw) - set(GROUP_FIELDS[kind])
    if unknown:
        raise w.fail(where, f"{kind} cannot map {sorted(unknown)}; known: {GROUP_FIELDS[kind]}")
    value_field = GROUP_VALUE[kind]
    if value_field not in raw:
        raise w.fail(where, f"each {kind} entry needs {value_field!r}")
    lines: tuple[Column, ...] = ()
    fields: dict[str, Spec] = {}
    for key, value in raw.items():
        if key == "lines":
            names = value if isinstance(value, list) else [value]
            if not names or not all(isinstance(n, str) and n.strip() for n in names):
                raise w.fail(where, "lines must be a column header or a list of them")
            lines = tuple(Column(n.strip()) for n in names)
        else:
            fields[key] = _spec(value, where, f"{kind}.{key}", w)
    return ContactGroup(kind, fields, lines)


def _sheet(index: int, raw: object, w: _Where) -> Sheet:
    where = f"sheet {index}"
    if not isinstance(raw, dict):
        raise w.fail(where, "each [[sheets]] entry must be a table")
    record = raw.get("record")
    if record not in RECORD_FIELDS:
        raise w.fail(where, f"record must be one of {', '.join(RECORD_FIELDS)}, not {record!r}")
    file = _text(raw, "file", where, w)
    if file is None or not _BARE.match(file) or file in (".", ".."):
        raise w.fail(where, "file must be a bare file name (no folder, no drive, no '..')")
    where = f"sheet {index} ({file})"
    worksheet = _text(raw, "sheet", where, w)
    if worksheet is not None and not _BARE.match(worksheet):
        raise w.fail(where, "sheet must be a worksheet name")
    columns_raw = raw.get("columns", {})
    if not isinstance(columns_raw, dict):
        raise w.fail(where, "[sheets.columns] must be a table")
    unknown = set(columns_raw) - set(RECORD_FIELDS[record])
    if unknown:
        raise w.fail(
            where, f"a {record} has no {sorted(unknown)}; known: {', '.join(RECORD_FIELDS[record])}"
        )
    columns = {k: _spec(v, where, k, w) for k, v in columns_raw.items()}
    missing = [f for f in REQUIRED[record] if f not in columns]
    if missing:
        raise w.fail(where, f"a {record} sheet must map {', '.join(missing)}")
    groups: list[ContactGroup] = []
    for kind in GROUP_FIELDS:
        entries = raw.get(kind, [])
        if entries and kind not in RECORD_GROUPS.get(record, ()):
            raise w.fail(where, f"a {record} has no {kind}")
        if not isinstance(entries, list):
            raise w.fail(where, f"{kind} must be written [[sheets.{kind}]]")
        groups += [_group(kind, e, where, w) for e in entries]
    aspects: list[Aspect] = []
    for entry in raw.get("aspects", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("column"), str):
            raise w.fail(where, 'each [[sheets.aspects]] needs column = "header"')
        aspects.append(
            Aspect(
                entry["column"].strip(),
                _text(entry, "subject", where, w),
                _text(entry, "grade_type", where, w),
            )
        )
    other = raw.get("other_columns", "ignore")
    if other not in ("ignore", "aspects"):
        raise w.fail(where, "other_columns must be 'ignore' or 'aspects'")
    if record == "marksheet" and not aspects and other != "aspects":
        raise w.fail(where, "a marksheet needs [[sheets.aspects]] or other_columns = 'aspects'")
    keys = {}
    for which in ("student", "staff"):
        value = raw.get(f"{which}_key", "mis_id")
        if value not in PERSON_KEYS[which]:
            raise w.fail(where, f"{which}_key must be one of {', '.join(PERSON_KEYS[which])}")
        keys[which] = value
    header_row = raw.get("header_row", 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool) or not 1 <= header_row <= 50:
        raise w.fail(where, "header_row must be a row number from 1 to 50")
    delimiter = _text(raw, "delimiter", where, w) if raw.get("delimiter") != "\t" else "\t"
    if delimiter is not None and len(delimiter) != 1:
        raise w.fail(where, "delimiter must be one character")
    return Sheet(
        record=record,
        file=file,
        columns=columns,
        sheet=worksheet,
        key=_text(raw, "key", where, w),
        header_row=header_row,
        delimiter=delimiter,
        groups=tuple(groups),
        aspects=tuple(aspects),
        other_columns=other,
        grade_words=_words(raw, "grade_words", where, w),
        ignore=_words(raw, "ignore", where, w),
        student_key=keys["student"],
        staff_key=keys["staff"],
    )


def parse_mapping(text: str, name: str) -> SheetMapping:
    """Parse and check one mapping's TOML text; ``name`` names it in errors."""
    w = _Where(name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise w.fail("its TOML", str(exc)) from None
    head = data.get("mapping", {})
    if not isinstance(head, dict):
        raise w.fail("[mapping]", "must be a table")
    sheets = data.get("sheets")
    if not isinstance(sheets, list) or not sheets:
        raise w.fail("[[sheets]]", "a mapping needs at least one [[sheets]] entry")
    return SheetMapping(
        name=Path(name).stem if name.endswith(".toml") else name,
        title=str(head.get("title") or name),
        sheets=tuple(_sheet(i + 1, s, w) for i, s in enumerate(sheets)),
        source=str(head.get("source") or ""),
        inferred=_words(head, "inferred", "[mapping]", w),
    )
