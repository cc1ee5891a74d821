"""Computing a plan: an extract compared, record by record, with the store's snapshot.

Records stream in (:meth:`PlanBuilder.add`) while the extract runs, so a school is never
held in memory: a record whose digest matches its stored row, under the same username
and status, is only noted as seen. What differs, what is new and what cannot be placed
yet (a membership of a pupil this plan creates) is kept, and :meth:`PlanBuilder.finish`
plans it in a fixed order once every dataset's outcome is known. Rules:

- a record is found by its MIS id; an unknown id is matched by natural key among the
  stored records that hold no id from this MIS (see :mod:`misbridge.store.matching`);
- a stored record absent from a *complete, full* dataset is disabled, never deleted;
  one absent from an *unverified* read is held (listed, not disabled) unless the
  caller releases it; a partial, failed or delta read disables nothing, and neither
  does the absence of a record the extract itself rejected (a data error is not a
  leaver). A record the vendor names as deleted is disabled whatever the read;
- a student whose leaving date has passed is disabled; one who is back is re-enabled
  with the same internal id;
- a source never empties what it does not carry (:mod:`misbridge.store.provenance`);
- a username already held by another account rejects the record (processing error);
  the contact preference is written only when the account is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from attrs import define

from misbridge.errors import RecordError, Severity, StoreError
from misbridge.labels import record_identity
from misbridge.model import Dataset, Deletion
from misbridge.reads import Checkpoint
from misbridge.result import DatasetOutcome, OutcomeStatus
from misbridge.store import problems
from misbridge.store.dependent import DependentKinds
from misbridge.store.guard import GuardPolicy, evaluate_guard
from misbridge.store.kinds import KINDS, KINDS_BY_MODEL, Kind, fold, has_nul
from misbridge.store.labels import RowLabels
from misbridge.store.matching import match_natural
from misbridge.store.plan import Create, DatasetPlan, FieldChange, Link, Plan, StatusChange, Update
from misbridge.store.provenance import Lacks
from misbridge.store.references import ENTITIES_OF_DATASET, REJECTED
from misbridge.store.state import KindState, Row, StoreState, username_owners

__all__ = ["ABSENT", "BACK", "DELETED", "LEFT", "PlanBuilder"]

ABSENT = "absent from a complete extract"
UNVERIFIED = "absent from a read the vendor gives no total to check"
LEFT = "leaving date has passed"
BACK = "back in the extract"
DELETED = "deleted in the MIS"


class PlanBuilder:
    """Builds one plan from records streamed in (see the module docstring)."""

    def __init__(self, state: StoreState, *, as_of: date, lacks: Iterable[str] = ()) -> None:
        self.state = state
        self.mis = state.mis
        self.as_of = as_of
        self.lacks = Lacks.of(lacks)
        # (id space, MIS id) -> internal id, the "new:" ref of a record this plan creates,
        # or REJECTED for a record this plan rejects (what points at it is skipped).
        self.resolved: dict[tuple[str, str], Any] = {}
        for ks in state.kinds.values():
            self.resolved.update(ks.by_ident)
        self.owners = username_owners(state.usernames)
        self.extracted: dict[str, int] = {}
        # Identified kinds: MIS ids taken, rows seen unchanged, records left to plan.
        self.taken: dict[str, set[tuple[str, str]]] = {}
        self.seen: dict[str, set[str]] = {}
        self.pending: dict[str, list[Any]] = {}
        self.duplicates: dict[str, list[Any]] = {}
        self.dependent = DependentKinds(self)
        # Stored records present in the extract but not applied (rejected, or ambiguous
        # candidates): neither they nor what points at them may be disabled this run.
        self.held: set[str] = set()
        self.label = RowLabels(state)

    # -- streaming -----------------------------------------------------------------------
    def add(self, dataset: Dataset, record: Any) -> None:
        """Take one accepted record of the extract (or a :class:`Deletion`)."""
        if type(record) is Deletion:
            return  # deletions are planned from the result (``finish``)
        kind = KINDS_BY_MODEL.get(type(record))
        if kind is None or kind.dataset is not dataset:
            raise StoreError(
                f"the extract's {dataset.value} dataset holds {type(record).__name__} records"
            )
        if kind.name in self.lacks.kinds:
            return
        self.extracted[kind.name] = self.extracted.get(kind.name, 0) + 1
        if not kind.identified:
            self.dependent.add(kind, record)
            return
        values = kind.values(record)
        ident = (kind.namespace(values), record.mis_id)
        taken = self.taken.setdefault(kind.name, set())
        if ident in taken:
            self.duplicates.setdefault(kind.name, []).append(record)
            return
        taken.add(ident)
        ks = self.state.kinds[kind.name]
        rid = ks.by_ident.get(ident)
        if rid is not None and self._unchanged(kind, ks.rows[rid], record, values):
            self.seen.setdefault(kind.name, set()).add(rid)
            return
        self.pending.setdefault(kind.name, []).append(record)

    def _unchanged(self, kind: Kind, row: Row, record: Any, values: dict[str, Any]) -> bool:
        if kind.digest(values) != row.digest or row.enabled != self._wanted(kind, values):
            return False
        if kind.name == "student":
            return bool(record.username == self.state.usernames.get(row.id))
        return True

    # -- planning ------------------------------------------------------------------------
    def finish(
        self,
        *,
        outcomes: Mapping[Dataset, DatasetOutcome],
        errors: Iterable[RecordError] = (),
        deletions: Mapping[Dataset, Iterable[Deletion]] | None = None,
        policy: GuardPolicy | None = None,
        release_held: bool = False,
        school: str | None = None,
        claims: str | None = None,
        checkpoints: Mapping[Dataset, Checkpoint] | None = None,
        present: Iterable[Dataset] = (),
    ) -> Plan:
        """The plan, once every record was added; ``present`` names datasets that had
        records without an outcome (an extract folder written by hand)."""
        policy = policy or GuardPolicy()
        self.errors = [e for e in errors if e.severity is Severity.ERROR]
        # A record the extract rejected (and the store does not hold) was reported once,
        # on site: what points at it is skipped, not reported again as unknown.
        for e in self.errors:
            if e.mis_id:
                for entity in ENTITIES_OF_DATASET.get(e.dataset, ()):
                    self.resolved.setdefault((entity, e.mis_id), REJECTED)
        self.release_held = release_held
        deleted = {d: list(v) for d, v in (deletions or {}).items()}
        plan = Plan(
            mis=self.mis,
            store_id=self.state.store_id,
            base_revision=self.state.revision,
            as_of=self.as_of,
            max_disable_share=policy.max_disable_share,
            extract_errors=list(errors),
            school=school or self.state.school,
            claims=claims if claims is not None else self.state.claims,
            checkpoints=dict(checkpoints or {}),
        )
        wanted = set(present) | {d for d in deleted if deleted[d]}
        for dataset in Dataset:
            outcome = outcomes.get(dataset)
            has_records = any(self.extracted.get(k.name) for k in KINDS if k.dataset is dataset)
            if outcome is None and not has_records and dataset not in wanted:
                continue
            if outcome is not None and outcome.status is OutcomeStatus.UNSUPPORTED:
                continue
            dplan = DatasetPlan(
                dataset,
                status=outcome.status.value if outcome else "unknown",
                trusted=outcome.trusted if outcome else False,
                extracted=sum(self.extracted.get(k.name, 0) for k in KINDS if k.dataset is dataset),
                delta=outcome.delta if outcome else False,
            )
            unverified = outcome is not None and (
                outcome.status is OutcomeStatus.UNVERIFIED and not outcome.delta
            )
            for kind in (k for k in KINDS if k.dataset is dataset):
                if kind.name in self.lacks.kinds:
                    continue
                self.extracted.setdefault(kind.name, 0)
                if kind.identified:
                    self._identified(kind, dplan, unverified)
                else:
                    self.dependent.finish(kind, dplan, unverified)
                self._deleted(kind, deleted.get(dataset, ()), dplan)
            plan.datasets[dataset] = dplan
        plan.blobs = self.dependent.blobs
        plan.breaches = evaluate_guard(plan, self.state, self.extracted, policy)
        return plan

    # -- identified kinds: students, staff, groups, academic years, year groups ----------
    def _identified(self, kind: Kind, dplan: DatasetPlan, unverified: bool) -> None:
        ks = self.state.kinds[kind.name]
        seen = self.seen.setdefault(kind.name, set())
        for record in self.duplicates.get(kind.name, ()):
            dplan.errors.append(self._error(problems.DUPLICATE, record, dplan))
        protected = self._rejected_by_extract(kind, ks, dplan.dataset)
        unknown: list[tuple[tuple[str, str], Any, dict[str, Any]]] = []
        pending: list[_Pending] = []
        records = self.pending.pop(kind.name, [])
        for record in sorted(records, key=lambda r: (kind.namespace(r), r.mis_id)):
            values = kind.values(record)
            ident = (kind.namespace(values), record.mis_id)
            found = ks.by_ident.get(ident)
            if has_nul((values, record.mis_id, getattr(record, "username", None))):
                # Rejected, but present: a stored record stays as it is, not disabled.
                if found is None:
                    self.resolved[ident] = REJECTED
                else:
                    self.held.add(found)
                dplan.errors.append(self._error(problems.UNSTORABLE, record, dplan))
                continue
            if found is None:
                unknown.append((ident, record, values))
            else:
                self._existing(kind, ks, found, record, values, dplan, seen, pending)
        if unknown:
            self._match(kind, ks, unknown, dplan, seen, pending)
        self._emit_updates(kind, ks, pending, dplan)
        self._absent(kind, ks, seen | protected | self.held, dplan, unverified)

    def _match(
        self,
        kind: Kind,
        ks: KindState,
        unknown: list[tuple[tuple[str, str], Any, dict[str, Any]]],
        dplan: DatasetPlan,
        seen: set[str],
        pending: list[_Pending],
    ) -> None:
        pool_ids = [
            rid for rid, row in ks.rows.items() if rid not in self.state.linked and not row.purged
        ]
        ks.fetch(pool_ids)
        pool = {rid: ks.values(rid) for rid in pool_ids}
        matches = match_natural(kind, [v for _, _, v in unknown], pool)
        for (ident, record, values), match in zip(unknown, matches, strict=True):
            if match.ambiguous:
                self.held.update(match.candidates)
                self.resolved[ident] = REJECTED
                dplan.ambiguous.append(record_identity(record)[1])
                dplan.errors.append(
                    self._error(
                        problems.AMBIGUOUS,
                        record,
                        dplan,
                        count=len(match.candidates),
                        key=match.by,
                    )
                )
            elif match.id is not None:
                label = record_identity(record)[1]
                dplan.links.append(
                    Link(kind.name, match.id, ident[0], ident[1], label, str(match.by))
                )
                self.resolved[ident] = match.id
                self._existing(kind, ks, match.id, record, values, dplan, seen, pending)
            else:
                self._create(kind, ident, record, values, dplan, matching_tried=bool(pool))

    def _existing(
        self,
        kind: Kind,
        ks: KindState,
        rid: str,
        record: Any,
        values: dict[str, Any],
        dplan: DatasetPlan,
        seen: set[str],
        pending: list[_Pending],
    ) -> None:
        row = ks.rows[rid]
        seen.add(rid)
        extra: dict[str, FieldChange] = {}
        if kind.name == "student":
            current = self.state.usernames.get(rid)
            if not self._claim_username(rid, current, record.username):
                dplan.errors.append(self._error(problems.USERNAME_IN_USE, record, dplan))
                return
            if record.username != current:
                extra["username"] = FieldChange(current, record.username)
        digest = kind.digest(values)
        if digest != row.digest or extra:
            pending.append(_Pending(rid, record, values, digest, digest != row.digest, extra))
        wanted = self._wanted(kind, values)
        if row.enabled != wanted:
            self._status(kind, row, wanted, record_identity(record)[1], dplan)

    def _emit_updates(
        self, kind: Kind, ks: KindState, pending: list[_Pending], dplan: DatasetPlan
    ) -> None:
        """Field-level differences of the records whose digest differs, in plan order."""
        ks.fetch(p.id for p in pending if p.data_changed)
        for p in pending:
            changes = dict(p.extra)
            digest = p.digest
            if p.data_changed:
                stored = ks.values(p.id)
                merged = dict(p.values)
                self.lacks.merge(kind, stored, merged)
                if merged != p.values:
                    digest = kind.digest(merged)
                changes.update(kind.diff(stored, merged))
            # A digest that differs over equal values (written by an older misbridge)
            # changes nothing: the row is simply compared in full again next time.
            if changes:
                label = record_identity(p.record)[1]
                dplan.updates.append(Update(kind.name, p.id, label, changes, digest))

    def _create(
        self,
        kind: Kind,
        ident: tuple[str, str],
        record: Any,
        values: dict[str, Any],
        dplan: DatasetPlan,
        *,
        matching_tried: bool,
    ) -> None:
        ref = f"new:{ident[0]}:{ident[1]}"
        account: dict[str, Any] | None = None
        if kind.has_account:
            username = getattr(record, "username", None)
            if not self._claim_username(ref, None, username):
                self.resolved[ident] = REJECTED
                dplan.errors.append(self._error(problems.USERNAME_IN_USE, record, dplan))
                return
            preference = getattr(record, "email_preference", None)
            account = {
                "username": username,
                "contact_preference": preference.value if preference is not None else None,
            }
        dplan.creates.append(
            Create(
                kind.name,
                ref,
                record_identity(record)[1],
                values,
                self._wanted(kind, values),
                entity=ident[0],
                mis_id=ident[1],
                account=account,
                matching_tried=matching_tried,
            )
        )
        self.resolved[ident] = ref

    def _claim_username(self, person: str, current: str | None, wanted: str | None) -> bool:
        """Take ``wanted`` for ``person`` unless another account holds it (any case)."""
        if wanted == current:
            return True
        folded = fold(wanted)
        if folded is not None:
            owner = self.owners.get(folded)
            if owner is not None and owner != person:
                return False
            self.owners[folded] = person
        old = fold(current)
        if old is not None and old != folded and self.owners.get(old) == person:
            del self.owners[old]
        return True

    # -- shared ---------------------------------------------------------------------------
    def _wanted(self, kind: Kind, values: dict[str, Any]) -> bool:
        """Whether the record should be enabled: students who have left should not."""
        leaving = values.get("leaving_date") if kind.name == "student" else None
        return not (isinstance(leaving, date) and leaving < self.as_of)

    def _status(self, kind: Kind, row: Row, wanted: bool, label: str, dplan: DatasetPlan) -> None:
        if row.enabled and not wanted:
            dplan.disables.append(StatusChange(kind.name, row.id, label, LEFT))
        elif wanted and not row.enabled:
            dplan.reenables.append(StatusChange(kind.name, row.id, label, BACK))

    def _absent(
        self, kind: Kind, ks: KindState, keep: set[str], dplan: DatasetPlan, unverified: bool
    ) -> None:
        """Disable (or, after an unverified read, hold) the stored records not seen."""
        if not (dplan.trusted or unverified):
            return
        gone = [
            row
            for rid, row in ks.rows.items()
            if row.enabled and not row.purged and rid not in keep
        ]
        if not gone:
            return
        self.label.prepare(kind, gone)
        if dplan.trusted or self.release_held:
            reason = ABSENT if dplan.trusted else UNVERIFIED
            dplan.disables += [
                StatusChange(kind.name, r.id, self.label(kind, r), reason) for r in gone
            ]
        else:
            dplan.held += [
                StatusChange(kind.name, r.id, self.label(kind, r), UNVERIFIED) for r in gone
            ]

    def _deleted(self, kind: Kind, deletions: Iterable[Deletion], dplan: DatasetPlan) -> None:
        """Disable each record the vendor named as deleted, if it is still enabled."""
        if not kind.identified:
            return
        ks = self.state.kinds[kind.name]
        seen = self.seen.get(kind.name, set())
        disabling = {c.id for c in dplan.disables}
        name = kind.model.__name__
        for deletion in deletions:
            if deletion.record != name:
                continue
            spaces = (
                [f"group.{deletion.group_kind.value}"]
                if deletion.group_kind is not None
                else sorted({ns for ns, _ in ks.by_ident if ns.startswith("group.")})
                if kind.name == "group"
                else [kind.name]
            )
            for space in spaces:
                rid = ks.by_ident.get((space, deletion.mis_id))
                row = ks.rows.get(rid) if rid is not None else None
                if row is None or not row.enabled or rid in seen or rid in disabling:
                    continue
                self.label.prepare(kind, [row])
                dplan.disables.append(
                    StatusChange(kind.name, row.id, self.label(kind, row), DELETED)
                )
                disabling.add(row.id)

    def _rejected_by_extract(self, kind: Kind, ks: KindState, dataset: Dataset) -> set[str]:
        """Stored records whose incoming record the extract rejected: never disabled."""
        mis_ids = {e.mis_id for e in self.errors if e.dataset == dataset.value and e.mis_id}
        if not mis_ids:
            return set()
        return {rid for (_, mid), rid in ks.by_ident.items() if mid in mis_ids}

    def _error(self, code: str, record: Any, dplan: DatasetPlan, **details: Any) -> RecordError:
        mis_id, label = record_identity(record)
        return problems.error(
            code,
            dataset=dplan.dataset.value,
            mis=self.mis,
            mis_id=mis_id,
            label=label,
            **details,
        )


@define
class _Pending:
    """A matched record whose data or username differs: diffed once its row is read."""

    id: str
    record: Any
    values: dict[str, Any]
    digest: str
    data_changed: bool
    extra: dict[str, FieldChange]
