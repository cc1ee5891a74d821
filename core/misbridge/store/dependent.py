"""Planning the dependent kinds: memberships, photos and exam results.

They have no MIS id of their own: a row is found by the internal ids it points at plus a
few of its fields (``Kind.key_columns``). A membership is a person in a group in a role,
whatever its dates, so a source without membership dates neither ends nor restarts a
dated membership that still exists, and two periods of one membership in an extract
collapse to the latest (the one that is current).

Resolving references is the hot path of an unchanged night (one lookup per membership,
tens of thousands of them): a record whose references resolve to stored records and
whose data matches its row is only noted; the rest waits for :meth:`finish`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from attrs import define

from misbridge.labels import record_identity
from misbridge.store import problems
from misbridge.store.kinds import IDENT_SEP, Kind, digest_getter, has_nul, key_text
from misbridge.store.plan import Create, DatasetPlan, Update
from misbridge.store.references import pointing_at, reference_resolver

if TYPE_CHECKING:
    from misbridge.store.planner import PlanBuilder

__all__ = ["DependentKinds"]

MEMBERSHIP = "membership"


@define
class _Pick:
    """The record kept for one identity that differs from its row (or has none)."""

    rid: str | None
    data: tuple[Any, ...]
    digest: str
    record: Any = None
    refs: tuple[str, ...] = ()
    ident: str = ""


#: The values whose text is one-to-one with equality (so one digest serves equal ones).
_DATES = frozenset({date, type(None)})
_REMEMBERED = 4096


def _remembered(digest: Callable[[Sequence[Any]], str]) -> Callable[[Sequence[Any]], str]:
    """``digest`` of a membership's dates, remembered: a school's tens of thousands of
    memberships share a handful of start and end dates (the term's, or none), and the
    digest is most of an unchanged membership's cost."""
    known: dict[Sequence[Any], str] = {}

    def remembered(data: Sequence[Any]) -> str:
        try:
            found = known.get(data)
        except TypeError:  # an unhashable value (not a date): never remembered
            return digest(data)
        if found is None:
            found = digest(data)
            if all(type(v) in _DATES for v in data) and len(known) < _REMEMBERED:
                known[data] = found
        return found

    return remembered


#: A record that matched its row exactly: ``(internal id, data)``, where a membership's
#: data is only its start date (what ranks two periods of one membership). Tens of
#: thousands a night, so as small as it can be: the id is the snapshot's own string.
_Seen = tuple[str, tuple[Any, ...]]


class DependentKinds:
    """The dependent kinds of one plan (see the module docstring)."""

    def __init__(self, builder: PlanBuilder) -> None:
        # The builder owns this object: a strong reference back would make a cycle, so
        # that a finished builder (and the store snapshot it holds, tens of thousands of
        # rows) were freed only by a full collection instead of when it is dropped.
        self.builder: PlanBuilder = weakref.proxy(builder)
        self.state = builder.state
        self.blobs: dict[str, bytes] = {}
        self.picks: dict[str, dict[str, _Pick | _Seen]] = {}
        self.waiting: dict[str, list[Any]] = {}
        self.unstorable: dict[str, list[tuple[str, Any]]] = {}
        self.dropped: dict[str, list[Any]] = {}
        self._quiet: dict[str, Any] = {}
        self._setup: dict[str, tuple[Any, ...]] = {}

    def _parts(self, kind: Kind) -> tuple[Any, ...]:
        parts = self._setup.get(kind.name)
        if parts is None:
            columns = kind.field_columns
            key_at = [columns.index(c) for c in kind.key_fields]
            diff_at = [columns.index(c) for c in kind.diff_columns]
            nothing = self.builder.lacks.carries_nothing_to_compare(kind)
            digest = digest_getter(diff_at)
            if kind.name == MEMBERSHIP:
                digest = _remembered(digest)
            parts = (key_at, digest, diff_at, nothing)
            self._setup[kind.name] = parts
        return parts

    def _resolver(self, kind: Kind, on_missing: Any) -> Any:
        return reference_resolver(kind, self.builder.resolved, on_missing)

    # -- streaming -----------------------------------------------------------------------
    def add(self, kind: Kind, record: Any) -> None:
        quiet = self._quiet.get(kind.name)
        if quiet is None:
            quiet = self._quiet[kind.name] = self._resolver(kind, lambda *_: None)
        refs = quiet(record)
        if refs is None:  # it points at a record this plan creates, rejects, or lacks
            self.waiting.setdefault(kind.name, []).append(record)
            return
        self._choose(kind, record, refs)

    def _choose(self, kind: Kind, record: Any, refs: tuple[str, ...]) -> None:
        key_at, digest_data, diff_at, nothing = self._parts(kind)
        data = kind.extractor(record)
        join = IDENT_SEP.join
        ident = join((*refs, *[key_text(data[i]) for i in key_at])) if key_at else join(refs)
        if kind.name != MEMBERSHIP and has_nul(data):  # a membership holds no free text
            self.unstorable.setdefault(kind.name, []).append((ident, record))
            return
        if kind.name == "photo":
            self.blobs[record.sha256] = record.data
        ks = self.state.kinds[kind.name]
        rid = ks.by_key.get(ident)
        digest = digest_data(data)
        picks = self.picks.setdefault(kind.name, {})
        key = rid if rid is not None else ident
        other = picks.get(key)
        row = ks.rows[rid] if rid is not None else None
        if row is not None and row.enabled and (nothing or digest == row.digest):
            seen: _Seen = (row.id, data[:1] if kind.name == MEMBERSHIP else data)
            if other is None:
                picks[key] = seen
                return
            pick = self._as_pick(kind, seen)
        else:
            pick = _Pick(rid, data, digest, record, refs, ident)
        if other is not None:
            kept = self._as_pick(kind, other)
            winner = self._one_of(kind, kept, pick, diff_at, record)
            if winner is kept:
                return
            pick = winner
        picks[key] = pick if pick.record is not None or pick.rid is None else (pick.rid, pick.data)

    def _as_pick(self, kind: Kind, value: _Pick | _Seen) -> _Pick:
        if isinstance(value, _Pick):
            return value
        rid, data = value
        row = self.state.kinds[kind.name].rows[rid]
        return _Pick(rid, data, str(row.digest), None)

    def _one_of(
        self, kind: Kind, kept: _Pick, new: _Pick, diff_at: list[int], record: Any
    ) -> _Pick:
        """Two records with one identity: keep one whatever the extract's order."""
        if kind.name == MEMBERSHIP:
            # Two periods of one membership (a pupil who left a class and came back):
            # the latest start is the one in force; no error, it is history.
            def rank(p: _Pick) -> tuple[str, str]:
                return (key_text(p.data[0]), p.digest)

            return max(kept, new, key=rank) if rank(new) != rank(kept) else kept
        if new.digest == kept.digest:
            self.dropped.setdefault(kind.name, []).append(record)
            return kept
        winner = min(kept, new, key=lambda p: repr(tuple(p.data[i] for i in diff_at)))
        loser_record = record if winner is kept else kept.record
        if loser_record is not None:
            self.dropped.setdefault(kind.name, []).append(loser_record)
        return winner

    # -- planning ------------------------------------------------------------------------
    def finish(self, kind: Kind, dplan: DatasetPlan, unverified: bool) -> None:
        builder = self.builder
        ks = builder.state.kinds[kind.name]

        def missing(record: Any, what: str | None) -> None:
            if what is None:  # it points at a record rejected itself: counted, not reported
                dplan.skipped += 1
            else:
                dplan.errors.append(
                    builder._error(problems.UNKNOWN_REFERENCE, record, dplan, what=what)
                )

        resolve = self._resolver(kind, missing)
        for record in self.waiting.pop(kind.name, []):
            refs = resolve(record)
            if refs is not None:
                self._choose(kind, record, refs)
        for _, record in self.unstorable.get(kind.name, []):
            dplan.errors.append(builder._error(problems.UNSTORABLE, record, dplan))
        for record in self.dropped.get(kind.name, []):
            dplan.errors.append(builder._error(problems.DUPLICATE, record, dplan))
        seen: set[str] = set()
        pending: list[tuple[str, Any, dict[str, Any], str]] = []
        columns = kind.field_columns
        for _, pick in sorted(self.picks.pop(kind.name, {}).items()):
            if not isinstance(pick, _Pick):
                seen.add(pick[0])
                continue
            if pick.rid is None:
                values = dict(zip(columns, pick.data, strict=True))
                values.update(zip(kind.ref_columns, map(str, pick.refs), strict=True))
                label = record_identity(pick.record)[1]
                create = Create(
                    kind.name, "new:" + pick.ident, label, values, True, digest=pick.digest
                )
                dplan.creates.append(create)
                continue
            seen.add(pick.rid)
            if pick.record is None:
                continue
            row = ks.rows[pick.rid]
            if pick.digest != row.digest and not self._parts(kind)[3]:
                values = dict(zip(columns, pick.data, strict=True))
                pending.append((pick.rid, pick.record, values, pick.digest))
            if not row.enabled:
                builder._status(kind, row, True, record_identity(pick.record)[1], dplan)
        self._updates(kind, pending, dplan)
        if dplan.trusted or unverified:
            protected = self._protected(kind, dplan)
            builder._absent(kind, ks, seen | protected, dplan, unverified)

    def _updates(
        self, kind: Kind, pending: list[tuple[str, Any, dict[str, Any], str]], dplan: DatasetPlan
    ) -> None:
        ks = self.builder.state.kinds[kind.name]
        ks.fetch(rid for rid, *_ in pending)
        for rid, record, values, digest in pending:
            stored = ks.values(rid)
            merged = dict(values)
            self.builder.lacks.merge(kind, stored, merged)
            if merged != values:
                digest = kind.digest(merged)
            changes = kind.diff(stored, merged)
            if changes:
                label = record_identity(record)[1]
                dplan.updates.append(Update(kind.name, rid, label, changes, digest))

    def _protected(self, kind: Kind, dplan: DatasetPlan) -> set[str]:
        """Stored rows that must not be disabled although not seen: those pointing at a
        record the extract rejected or this plan holds, and unstorable ones."""
        builder = self.builder
        ks = builder.state.kinds[kind.name]
        mis_ids = {
            e.mis_id for e in builder.errors if e.dataset == dplan.dataset.value and e.mis_id
        }
        owners: set[str] = set()
        if mis_ids:
            owners = {
                rid
                for (_, mid), rid in builder.resolved.items()
                if mid in mis_ids and type(rid) is str
            }
        protected = pointing_at(kind, ks.rows.items(), owners | builder.held)
        protected.update(
            ks.by_key[i] for i, _ in self.unstorable.get(kind.name, []) if i in ks.by_key
        )
        return protected
