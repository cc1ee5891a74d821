"""The shape of a report definition: columns, record sets, reports.

A report has one *main* record set (the entity: a student, a group) and optional
*sub* record sets (a student's addresses, a group's members). SIMS answers such a
report with the cross product of its record sets, one ``<Record>`` per combination;
:mod:`misbridge_sims.merge` folds it back into entities. The definitions themselves are
in :mod:`misbridge_sims.reports`.
"""

from __future__ import annotations

from collections.abc import Iterator

from attrs import frozen

from misbridge.plugin import Dataset

__all__ = ["Column", "RecordSet", "ReportDef"]


@frozen
class Column:
    """One report column: its caption (the XML element name once encoded), the
    source field it fills, and the permission SIMS needs to show it (``None``: only the
    report's own permissions). ``is_id`` columns are suppressed by SIMS for accounts
    outside "Third Party Reporter". An ``optional`` column may rightly be empty in every
    record (no photos stored), so its emptiness never suggests a withheld permission;
    a ``binary`` one holds a picture, with the photo size cap instead of the text one."""

    caption: str
    field: str
    permission: str | None = None
    is_id: bool = False
    sims_field: str = ""  # what the administrator picks in the report designer
    optional: bool = False
    binary: bool = False


@frozen
class RecordSet:
    name: str
    columns: tuple[Column, ...]

    def captions(self) -> tuple[str, ...]:
        return tuple(c.caption for c in self.columns)


@frozen
class ReportDef:
    """One report: ``title`` is appended to the configured prefix ("misbridge ")."""

    key: str
    title: str
    dataset: Dataset
    main: RecordSet
    subsets: tuple[RecordSet, ...] = ()
    requires: tuple[str, ...] = ()
    data_area: str = ""

    @property
    def key_caption(self) -> str:
        """The main record set's ID column: rows sharing it are one entity."""
        return self.main.columns[0].caption

    def name(self, prefix: str = "misbridge ") -> str:
        return f"{prefix}{self.title}"

    def columns(self) -> Iterator[Column]:
        yield from self.main.columns
        for subset in self.subsets:
            yield from subset.columns

    def id_captions(self) -> tuple[str, ...]:
        return tuple(c.caption for c in self.columns() if c.is_id)

    def permission_columns(self, *, inferable: bool = False) -> dict[str, tuple[str, ...]]:
        """Captions by the permission line that governs them; ``inferable``: only the
        columns whose emptiness in every record says the permission was withheld."""
        found: dict[str, list[str]] = {}
        for column in self.columns():
            if column.permission and not (inferable and column.optional):
                found.setdefault(column.permission, []).append(column.caption)
        return {p: tuple(c) for p, c in found.items()}

    def binary_captions(self) -> tuple[str, ...]:
        return tuple(c.caption for c in self.columns() if c.binary)
