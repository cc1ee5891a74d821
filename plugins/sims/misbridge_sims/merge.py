"""Fold the cross product of a multi-record-set report back into entities.

SIMS answers a report with several record sets (a student with their SEN statuses,
addresses, telephones and emails) with one ``<Record>`` per *combination*: a pupil
with two addresses and three telephones fills six records. The rows of one entity
come together (SIMS joins under the main record), so :class:`Merger` holds one entity
at a time: it collects the distinct sub-records of each record set in the order they
first appear (which is the order SIMS lists them) and hands the entity on when the
next entity's ID arrives. A sub-record whose columns are all empty is the empty side
of an outer join: the entity has none of that kind.

An ID seen again after its entity was finished means the report is not grouped by
that ID (someone changed its sort order); merging on would split one pupil in two, so
that is an error naming the report. One entity holds at most ``max_subrecords``
distinct sub-records: a real one has a few dozen (a large house a few thousand
members), while a hostile report repeating one ID would otherwise grow without bound.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import define, field

from misbridge.plugin import SourceFormatError
from misbridge_sims.reports import ReportDef

__all__ = ["DEFAULT_MAX_SUBRECORDS", "Entity", "Merger"]

SubRecord = tuple[tuple[str, str], ...]

DEFAULT_MAX_SUBRECORDS = 20_000


@define
class Entity:
    """One merged entity: the main record set's values and each sub record set's rows.

    Values are the raw strings SIMS wrote; a column SIMS left out (empty) is absent.
    """

    key: str
    main: dict[str, str]
    subs: dict[str, list[dict[str, str]]] = field(factory=dict)
    rows: int = 1


class Merger:
    """Push merger for one report: :meth:`push` records, get finished entities."""

    def __init__(
        self, report: ReportDef, source: str, max_subrecords: int = DEFAULT_MAX_SUBRECORDS
    ) -> None:
        self.report = report
        self.source = source
        self.max_subrecords = max_subrecords
        self._held = 0  # distinct sub-records of the current entity
        self.key_caption = report.key_caption
        self._main = report.main.captions()
        self._subsets = [(s.name, s.captions()) for s in report.subsets]
        self._current: Entity | None = None
        self._seen_subs: dict[str, set[SubRecord]] = {}
        self._finished: set[str] = set()
        self.records = 0
        self.entities = 0

    def push(self, record: Mapping[str, str]) -> Entity | None:
        """Take one ``<Record>``; return the previous entity if this one starts a new one."""
        self.records += 1
        key = record.get(self.key_caption, "")
        done: Entity | None = None
        if self._current is None or key != self._current.key:
            done = self._finish()
            if key in self._finished:
                raise SourceFormatError(
                    f"{self.source}: record {self.records} repeats {self.key_caption} {key!r} "
                    f"after other rows: the report must be sorted by {self.key_caption!r} "
                    "(see the report definition in docs/plugins/sims.md)",
                    source=self.source,
                )
            self._current = Entity(
                key=key, main={c: record[c] for c in self._main if record.get(c)}
            )
            self._seen_subs = {name: set() for name, _ in self._subsets}
            self._held = 0
        else:
            self._current.rows += 1
        for name, captions in self._subsets:
            values = tuple((c, record[c]) for c in captions if record.get(c))
            if not values or values in self._seen_subs[name]:
                continue
            self._held += 1
            if self._held > self.max_subrecords:
                raise SourceFormatError(
                    f"{self.source}: {self.key_caption} {key!r} has more than "
                    f"{self.max_subrecords:,} distinct sub-records (record {self.records}); "
                    "no pupil or group has that many, so the report was refused",
                    source=self.source,
                )
            self._seen_subs[name].add(values)
            self._current.subs.setdefault(name, []).append(dict(values))
        return done

    def close(self) -> Entity | None:
        """The last entity, once the report has ended."""
        return self._finish()

    def _finish(self) -> Entity | None:
        done = self._current
        if done is not None:
            self._finished.add(done.key)
            self.entities += 1
        self._current = None
        return done
