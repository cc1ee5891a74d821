"""Field provenance: a source never empties a stored value it cannot carry.

An MIS plugin declares what its wire format lacks (``MisInfo.coverage``): Wonde has no
membership dates, Bromcom's partner view no pupil address. When such a source updates
a record another MIS filled in, the stored value of a field it lacks is kept, not
replaced by its empty one. SEN statuses are merged finer: a source without SEN dates
keeps the stored dates of the codes it still gives, and one without SEN history keeps
the stored statuses that have ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

from misbridge.store.kinds import KINDS, Kind

__all__ = ["Lacks"]

_MODEL_NAMES = {k.model.__name__: k for k in KINDS}
SEN_DATES = "Student.sen.dates"
SEN_HISTORY = "Student.sen.history"


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == ()


@frozen
class Lacks:
    """What one source lacks, per kind of record, as store columns."""

    #: kind name -> columns the source does not carry
    columns: Mapping[str, frozenset[str]]
    #: kinds the source does not carry at all (their records are left alone)
    kinds: frozenset[str]
    sen_dates: bool = False
    sen_history: bool = False

    @classmethod
    def of(cls, names: Iterable[str]) -> Lacks:
        columns: dict[str, set[str]] = {}
        kinds: set[str] = set()
        names = set(names)
        for name in names:
            type_name, _, attr = name.partition(".")
            kind = _MODEL_NAMES.get(type_name)
            if kind is None:
                continue
            if not attr:
                kinds.add(kind.name)
                continue
            attr = attr.split(".")[0]
            column = dict(kind.fields).get(attr)
            if column is not None and not (attr == "sen" and "." in name.partition(".")[2]):
                columns.setdefault(kind.name, set()).add(column)
        return cls(
            columns={k: frozenset(v) for k, v in columns.items()},
            kinds=frozenset(kinds),
            sen_dates=SEN_DATES in names,
            sen_history=SEN_HISTORY in names,
        )

    def lacking(self, kind: Kind) -> frozenset[str]:
        return self.columns.get(kind.name, frozenset())

    def carries_nothing_to_compare(self, kind: Kind) -> bool:
        """True when every compared column of ``kind`` is one the source lacks (Wonde's
        memberships): a matched record then has nothing that could have changed."""
        lacking = self.lacking(kind)
        return bool(kind.diff_columns) and all(c in lacking for c in kind.diff_columns)

    def merge(self, kind: Kind, stored: Mapping[str, Any], incoming: dict[str, Any]) -> None:
        """Keep, in ``incoming``, the stored values of what the source does not carry."""
        for column in self.lacking(kind):
            if _empty(incoming.get(column)) and not _empty(stored.get(column)):
                incoming[column] = stored[column]
        if kind.name == "student" and (self.sen_dates or self.sen_history):
            incoming["sen"] = self._merged_sen(stored.get("sen"), incoming.get("sen"))

    def _merged_sen(self, stored: Any, incoming: Any) -> Any:
        old = [s for s in (stored or []) if isinstance(s, Mapping)]
        new = [dict(s) for s in (incoming or []) if isinstance(s, Mapping)]
        if self.sen_dates:
            by_code: dict[Any, Mapping[str, Any]] = {}
            for status in old:
                by_code.setdefault(status.get("code"), status)
            for status in new:
                kept = by_code.get(status.get("code"))
                if kept is not None and status.get("start") is None and status.get("end") is None:
                    status["start"], status["end"] = kept.get("start"), kept.get("end")
        if self.sen_history:
            codes = {s.get("code") for s in new}
            ended = [
                dict(s) for s in old if s.get("end") is not None and s.get("code") not in codes
            ]
            new = ended + new
        return new if new or incoming is not None else incoming
