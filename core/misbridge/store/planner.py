"""Computing a plan: an extract compared, record by record, with the store's snapshot.

Rules (from the seeds and issue 6):

- a record is found by its MIS id; an unknown id is matched by natural key among the
  stored records that hold no id from this MIS (see :mod:`misbridge.store.matching`);
- a stored record absent from a *complete* dataset is disabled, never deleted; a
  dataset that failed or stopped part-way never disables anything, and neither does
  the absence of a record the extract itself rejected (a data error is not a leaver);
- a student whose leaving date has passed is disabled; one who is back is re-enabled
  with the same internal id;
- a username already held by another account rejects the record (processing error);
  the contact preference is written only when the account is created.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from attrs import define

from misbridge.errors import RecordError, Severity, StoreError
from misbridge.model import Dataset
from misbridge.result import ExtractResult, OutcomeStatus
from misbridge.store import problems
from misbridge.store.guard import evaluate_guard
from misbridge.store.kinds import (
    IDENT_SEP,
    KINDS,
    Kind,
    digest_getter,
    fold,
    has_nul,
    key_text,
)
from misbridge.store.labels import RowLabels
from misbridge.store.matching import match_natural
from misbridge.store.plan import Create, DatasetPlan, FieldChange, Link, Plan, StatusChange, Update
from misbridge.store.references import (
    ENTITIES_OF_DATASET,
    REJECTED,
    Resolver,
    pointing_at,
    reference_resolver,
)
from misbridge.store.state import KindState, Row, StoreState, username_owners
from misbridge.validate.labels import record_identity

__all__ = ["make_plan"]

ABSENT = "absent from a complete extract"
LEFT = "leaving date has passed"
BACK = "back in the extract"


def make_plan(
    state: StoreState, result: ExtractResult, *, as_of: date, max_disable_share: float
) -> Plan:
    return _Planner(state, result, as_of).plan(max_disable_share)


class _Planner:
    def __init__(self, state: StoreState, result: ExtractResult, as_of: date) -> None:
        self.state = state
        self.result = result
        self.mis = result.mis
        self.as_of = as_of
        # (id space, MIS id) -> internal id, the "new:" ref of a record this plan creates,
        # or REJECTED for a record this plan rejects (what points at it is skipped).
        self.resolved: dict[tuple[str, str], Any] = {}
        for ks in state.kinds.values():
            self.resolved.update(ks.by_ident)
        # A record the extract rejected (and the store does not hold) was reported once,
        # on site: what points at it is skipped, not reported again as unknown.
        for e in result.errors:
            if e.severity is Severity.ERROR and e.mis_id:
                for entity in ENTITIES_OF_DATASET.get(e.dataset, ()):
                    self.resolved.setdefault((entity, e.mis_id), REJECTED)
        self.owners = username_owners(state.usernames)
        self.blobs: dict[str, bytes] = {}
        self.extracted: dict[str, int] = {}
        # Stored records present in the extract but not applied (rejected, or ambiguous
        # candidates): neither they nor what points at them may be disabled this run.
        self.held: set[str] = set()
        self.label = RowLabels(state)

    def plan(self, max_disable_share: float) -> Plan:
        plan = Plan(
            mis=self.mis,
            store_id=self.state.store_id,
            base_revision=self.state.revision,
            as_of=self.as_of,
            max_disable_share=max_disable_share,
            extract_errors=list(self.result.errors),
        )
        for dataset in Dataset:
            outcome = self.result.outcomes.get(dataset)
            records = self.result.records.get(dataset, [])
            if outcome is None and not records:
                continue
            if outcome is not None and outcome.status is OutcomeStatus.UNSUPPORTED:
                continue
            dplan = DatasetPlan(
                dataset,
                status=outcome.status.value if outcome else "unknown",
                trusted=outcome.trusted if outcome else False,
                extracted=len(records),
            )
            by_type: dict[type, list[Any]] = {}
            for record in records:
                by_type.setdefault(type(record), []).append(record)
            for kind in (k for k in KINDS if k.dataset is dataset):
                chosen = by_type.pop(kind.model, [])
                self.extracted[kind.name] = len(chosen)
                if kind.identified:
                    self._identified(kind, chosen, dplan)
                else:
                    self._dependent(kind, chosen, dplan)
            if by_type:
                names = ", ".join(sorted(t.__name__ for t in by_type))
                raise StoreError(f"the extract's {dataset.value} dataset holds {names} records")
            plan.datasets[dataset] = dplan
        plan.blobs = self.blobs
        plan.breaches = evaluate_guard(plan, self.state, self.extracted)
        return plan

    # -- identified kinds: students, staff, groups, academic years, year groups ----------

    def _identified(self, kind: Kind, records: list[Any], dplan: DatasetPlan) -> None:
        ks = self.state.kinds[kind.name]
        seen: set[str] = set()
        protected = self._rejected_by_extract(kind, ks, dplan.dataset)
        unknown: list[tuple[tuple[str, str], Any, dict[str, Any]]] = []
        pending: list[_Pending] = []
        taken: set[tuple[str, str]] = set()
        for record in sorted(records, key=lambda r: (kind.namespace(r), r.mis_id)):
            values = kind.values(record)
            ident = (kind.namespace(values), record.mis_id)
            if ident in taken:
                dplan.errors.append(self._error(problems.DUPLICATE, record, dplan))
                continue
            taken.add(ident)
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
            pool_ids = [
                rid
                for rid, row in ks.rows.items()
                if rid not in self.state.linked and not row.purged
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
        self._emit_updates(kind, ks, pending, dplan)
        if dplan.trusted:
            self._disable_absent(kind, ks, seen | protected | self.held, dplan)

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
            if p.data_changed:
                changes.update(kind.diff(ks.values(p.id), p.values))
            # A digest that differs over equal values (written by an older misbridge)
            # changes nothing: the row is simply compared in full again next time.
            if changes:
                label = record_identity(p.record)[1]
                dplan.updates.append(Update(kind.name, p.id, label, changes, p.digest))

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

    # -- dependent kinds: memberships, photos, exam results ------------------------------

    def _dependent(self, kind: Kind, records: list[Any], dplan: DatasetPlan) -> None:
        ks = self.state.kinds[kind.name]
        columns = kind.field_columns
        key_at = [columns.index(c) for c in kind.key_fields]
        diff_at = [columns.index(c) for c in kind.diff_columns]
        digest_data = digest_getter(diff_at)
        chosen: dict[str, tuple[Any, tuple[str, ...], tuple[Any, ...]]] = {}
        refs_of, extract, join = self._refs(kind, dplan), kind.extractor, IDENT_SEP.join
        check_nul = kind.name != "membership"  # a membership holds no free text
        unstorable: set[str] = set()
        one_key = key_at[0] if len(key_at) == 1 else None  # a membership's start date
        for record in records:
            refs = refs_of(record)
            if refs is None:
                continue
            data = extract(record)
            if one_key is not None:
                value = data[one_key]
                ident = join((*refs, "" if value is None else str(value)))
            else:
                ident = join((*refs, *[key_text(data[i]) for i in key_at]))
            if check_nul and has_nul(data):
                unstorable.add(ident)
                dplan.errors.append(self._error(problems.UNSTORABLE, record, dplan))
                continue
            other = chosen.get(ident)
            if other is not None:
                # Keep one of the two whatever the extract's order, so the plan is stable.
                keep, drop = sorted(
                    ((record, refs, data), other),
                    key=lambda rrd: repr(tuple(rrd[2][i] for i in diff_at)),
                )
                chosen[ident] = keep
                dplan.errors.append(self._error(problems.DUPLICATE, drop[0], dplan))
                continue
            chosen[ident] = (record, refs, data)
        seen: set[str] = set()
        pending: list[_Pending] = []
        is_photo, by_key = kind.name == "photo", ks.by_key
        for ident, (record, refs, data) in chosen.items():
            if is_photo:
                self.blobs[record.sha256] = record.data
            found = by_key.get(ident)
            if found is None:
                values = dict(zip(columns, data, strict=True))
                values.update(zip(kind.ref_columns, map(str, refs), strict=True))
                label = record_identity(record)[1]
                dplan.creates.append(Create(kind.name, "new:" + ident, label, values, True))
                continue
            row = ks.rows[found]
            seen.add(found)
            digest = digest_data(data)
            if digest != row.digest:
                values = dict(zip(columns, data, strict=True))
                pending.append(_Pending(found, record, values, digest, True, {}))
            if not row.enabled:
                self._status(kind, row, True, record_identity(record)[1], dplan)
        self._emit_updates(kind, ks, pending, dplan)
        if dplan.trusted:
            protected = self._rejected_by_extract(kind, ks, dplan.dataset)
            protected.update(ks.by_key[i] for i in unstorable if i in ks.by_key)
            protected.update(pointing_at(kind, ks.rows.items(), self.held))
            self._disable_absent(kind, ks, seen | protected, dplan)

    def _refs(self, kind: Kind, dplan: DatasetPlan) -> Resolver:
        def missing(record: Any, what: str | None) -> None:
            if what is None:  # it points at a record rejected itself: counted, not reported
                dplan.skipped += 1
            else:
                dplan.errors.append(
                    self._error(problems.UNKNOWN_REFERENCE, record, dplan, what=what)
                )

        return reference_resolver(kind, self.resolved, missing)

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

    def _disable_absent(
        self, kind: Kind, ks: KindState, keep: set[str], dplan: DatasetPlan
    ) -> None:
        gone = [
            row
            for rid, row in ks.rows.items()
            if row.enabled and not row.purged and rid not in keep
        ]
        self.label.prepare(kind, gone)
        for row in gone:
            dplan.disables.append(StatusChange(kind.name, row.id, self.label(kind, row), ABSENT))

    def _rejected_by_extract(self, kind: Kind, ks: KindState, dataset: Dataset) -> set[str]:
        """Stored records whose incoming record the extract rejected: never disabled."""
        mis_ids = {
            e.mis_id
            for e in self.result.errors
            if e.dataset == dataset.value and e.severity is Severity.ERROR and e.mis_id
        }
        if not mis_ids:
            return set()
        if kind.identified:
            return {rid for (_, mid), rid in ks.by_ident.items() if mid in mis_ids}
        owners = {
            rid for (_, mid), rid in self.resolved.items() if mid in mis_ids and type(rid) is str
        }
        return pointing_at(kind, ks.rows.items(), owners)

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
