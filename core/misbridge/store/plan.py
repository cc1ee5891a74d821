"""A sync plan: every change an apply would make, computed before anything is written.

A plan lists, per dataset, the records to create, the field-level updates, the records
to disable and re-enable, memberships started and ended, MIS ids linked to existing
records by natural key, and the records rejected with a processing error. Its
``hash`` is the SHA-256 of its canonical JSON: the same extract against the same store
state always gives the same hash, and an operator's approval is bound to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from attrs import define, field, frozen
from rich.console import Console
from rich.table import Table

from misbridge.errors import RecordError
from misbridge.model import Dataset
from misbridge.reads import Checkpoint

__all__ = [
    "Create",
    "DatasetPlan",
    "FieldChange",
    "GuardBreach",
    "Link",
    "Plan",
    "StatusChange",
    "Update",
    "approve_command",
    "canonical_json",
]

MEMBERSHIP = "membership"


def _json_default(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


def canonical_json(data: object) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


@frozen
class FieldChange:
    old: Any
    new: Any


@frozen
class Create:
    kind: str
    ref: str  # "new:..." until applied; memberships and photos may point at it
    label: str
    values: Mapping[str, Any]
    enabled: bool
    entity: str | None = None  # identified kinds: the mis_id id space ...
    mis_id: str | None = None  # ... and the new MIS id
    account: Mapping[str, Any] | None = None
    matching_tried: bool = False  # there were stored records it could have matched
    #: The row's fingerprint when the planner already computed it (derived from
    #: ``values``, so not in the JSON); None: the apply computes it.
    digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "label": self.label,
            "entity": self.entity,
            "mis_id": self.mis_id,
            "enabled": self.enabled,
            "values": dict(self.values),
            "account": dict(self.account) if self.account is not None else None,
        }


@frozen
class Update:
    kind: str
    id: str
    label: str
    changes: Mapping[str, FieldChange]
    digest: str | None = None  # the row's new fingerprint (derived, so not in the JSON)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "changes": {k: {"old": c.old, "new": c.new} for k, c in self.changes.items()},
        }


@frozen
class StatusChange:
    """A disable (``reason`` says why) or a re-enable."""

    kind: str
    id: str
    label: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label, "reason": self.reason}


@frozen
class Link:
    """A new MIS id written for a record already in the store (matched by natural key)."""

    kind: str
    id: str
    entity: str
    mis_id: str
    label: str
    matched_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "entity": self.entity,
            "mis_id": self.mis_id,
            "label": self.label,
            "matched_by": self.matched_by,
        }


@frozen
class GuardBreach:
    """Why the guard refuses a plan (see :mod:`misbridge.store.guard`).

    ``disables`` counts the records disabled (``blank``: emptied) and ``active`` the
    base they are a share of; ``field`` names the emptied column, ``days`` the
    cumulative window."""

    dataset: Dataset
    kind: str
    reason: str  # "empty", "share", "blank" or "cumulative"
    disables: int
    active: int
    limit: float
    field: str | None = None
    days: int | None = None

    @property
    def share(self) -> float:
        return self.disables / self.active if self.active else 0.0

    @property
    def message(self) -> str:
        what = self.kind.replace("_", " ")
        where = self.dataset.value
        if self.reason == "empty":
            return (
                f"{where}: the extract holds no {what} records but the store has "
                f"{self.active} active; applying it would disable them all"
            )
        if self.reason == "blank":
            return (
                f"{where}: {self.disables} of {self.active} active {what} records would lose "
                f"their {self.field} ({self.share:.1%}, limit {self.limit:.0%}); a report "
                "column may have gone, or the MIS no longer gives it"
            )
        if self.reason == "cumulative":
            return (
                f"{where}: with this plan, {self.disables} of {self.active} {what} records "
                f"would have been disabled since the last approved plan, within "
                f"{self.days} days ({self.share:.1%}, limit {self.limit:.0%})"
            )
        return (
            f"{where}: {self.disables} of {self.active} active {what} records "
            f"would be disabled ({self.share:.1%}, limit {self.limit:.0%})"
        )

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dataset": self.dataset.value,
            "kind": self.kind,
            "reason": self.reason,
            "disables": self.disables,
            "active": self.active,
            "share": round(self.share, 4),
            "limit": self.limit,
            "message": self.message,
        }
        if self.field is not None:
            data["field"] = self.field
        if self.days is not None:
            data["days"] = self.days
        return data


def _sorted(items: Iterable[Any], key: str) -> list[dict[str, Any]]:
    return sorted((i.as_dict() for i in items), key=lambda d: (d["kind"], str(d[key])))


def _split(items: list[Any]) -> tuple[int, int]:
    """How many of ``items`` are not memberships, and how many are."""
    memberships = sum(1 for i in items if i.kind == MEMBERSHIP)
    return len(items) - memberships, memberships


@define
class DatasetPlan:
    dataset: Dataset
    status: str  # the extract's outcome for this dataset
    trusted: bool
    extracted: int = 0
    creates: list[Create] = field(factory=list)
    updates: list[Update] = field(factory=list)
    disables: list[StatusChange] = field(factory=list)
    reenables: list[StatusChange] = field(factory=list)
    links: list[Link] = field(factory=list)
    ambiguous: list[str] = field(factory=list)
    errors: list[RecordError] = field(factory=list)
    skipped: int = 0  # dependent records whose person or group was itself rejected
    #: Records absent from an unverified read: not disabled, unless released
    #: (``release_held``) by someone who knows the read was whole.
    held: list[StatusChange] = field(factory=list)
    delta: bool = False  # the read held only changes

    @property
    def memberships_started(self) -> list[Create | StatusChange]:
        started: list[Create | StatusChange] = [c for c in self.creates if c.kind == MEMBERSHIP]
        return started + [c for c in self.reenables if c.kind == MEMBERSHIP]

    @property
    def memberships_ended(self) -> list[StatusChange]:
        return [c for c in self.disables if c.kind == MEMBERSHIP]

    @property
    def unmatched(self) -> list[Create]:
        """Records created although stored records lacked this MIS's ids (after a switch)."""
        return [c for c in self.creates if c.matching_tried]

    @property
    def changes(self) -> int:
        return (
            len(self.creates)
            + len(self.updates)
            + len(self.disables)
            + len(self.reenables)
            + len(self.links)
        )

    def counts(self) -> dict[str, int]:
        """What the plan does, counted in one pass over each list (a first apply's lists
        hold every record of the school, and a sync counts three times)."""
        started = unmatched = 0
        for c in self.creates:
            if c.kind == MEMBERSHIP:
                started += 1
            if c.matching_tried:
                unmatched += 1
        updated, memberships_updated = _split(self.updates)
        disabled, ended = _split(self.disables)
        reenabled, restarted = _split(self.reenables)
        held, memberships_held = _split(self.held)
        return {
            "extracted": self.extracted,
            "created": len(self.creates) - started,
            "updated": updated,
            "disabled": disabled,
            "re_enabled": reenabled,
            "memberships_started": started + restarted,
            "memberships_updated": memberships_updated,
            "memberships_ended": ended,
            "linked": len(self.links),
            "unmatched": unmatched,
            "ambiguous": len(self.ambiguous),
            "rejected": sum(1 for e in self.errors if e.severity.value == "error"),
            "skipped": self.skipped,
            "held": held,
            "memberships_held": memberships_held,
        }

    def content(self) -> dict[str, Any]:
        """What the hash covers: the changes, in a canonical order."""
        return {
            "status": self.status,
            "trusted": self.trusted,
            "creates": _sorted(self.creates, "ref"),
            "updates": _sorted(self.updates, "id"),
            "disables": _sorted(self.disables, "id"),
            "reenables": _sorted(self.reenables, "id"),
            "links": _sorted(self.links, "id"),
            "held": _sorted(self.held, "id"),
            "ambiguous": sorted(self.ambiguous),
            "errors": sorted(
                (e.as_dict() for e in self.errors),
                key=lambda d: (d["code"], str(d["mis_id"]), str(d["field"]), d["message"]),
            ),
        }


@define
class Plan:
    """Every change a sync would make. Build one with :meth:`Store.plan`."""

    mis: str
    store_id: str
    base_revision: int
    as_of: date
    max_disable_share: float
    datasets: dict[Dataset, DatasetPlan] = field(factory=dict)
    breaches: list[GuardBreach] = field(factory=list)
    extract_errors: list[RecordError] = field(factory=list)
    #: Photo bytes by SHA-256: applied with the plan, never part of its JSON.
    blobs: dict[str, bytes] = field(factory=dict, repr=False)
    school: str = "default"
    #: The legacy school (a one-school store's rows from before r0004) this plan claims:
    #: applying it moves those rows to ``school`` first (see docs/store.md).
    claims: str | None = None
    #: Where each dataset's next incremental read starts: kept with the apply, only.
    checkpoints: dict[Dataset, Checkpoint] = field(factory=dict)
    #: The extract folder this plan was made from, when there is one (for messages).
    folder: str | None = None
    _body: str | None = field(default=None, init=False, repr=False)
    _hash: str | None = field(default=None, init=False, repr=False)

    @property
    def body(self) -> str:
        """The canonical JSON the hash is computed from (computed once)."""
        if self._body is None:
            content: dict[str, Any] = {
                "mis": self.mis,
                "store_id": self.store_id,
                "base_revision": self.base_revision,
                "datasets": {d.value: p.content() for d, p in sorted(self.datasets.items())},
            }
            # A one-school store's plans keep the hashes they had before schools existed;
            # any other school's plan is bound to its school (and to what it claims).
            if self.school != "default":
                content["school"] = self.school
            if self.claims is not None:
                content["claims"] = self.claims
            self._body = canonical_json(content)
        return self._body

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = hashlib.sha256(self.body.encode("utf-8")).hexdigest()
        return self._hash

    @property
    def empty(self) -> bool:
        """True when applying would change nothing in the roster."""
        return all(p.changes == 0 for p in self.datasets.values())

    @property
    def refused(self) -> bool:
        return bool(self.breaches)

    @property
    def errors(self) -> list[RecordError]:
        """The processing errors: records this plan rejects."""
        return [e for p in self.datasets.values() for e in p.errors]

    def _in_order(self) -> list[tuple[Dataset, DatasetPlan]]:
        return [(d, self.datasets[d]) for d in Dataset if d in self.datasets]

    def counts(self) -> dict[str, dict[str, int]]:
        return {d.value: p.counts() for d, p in self._in_order()}

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        data.update(
            hash=self.hash,
            as_of=self.as_of.isoformat(),
            max_disable_share=self.max_disable_share,
            empty=self.empty,
            counts=self.counts(),
            guard={
                "refused": self.refused,
                "breaches": [b.as_dict() for b in self.breaches],
            },
        )
        return data

    def render(self, console: Console, *, detail: int = 20) -> None:
        """Counts per dataset, the guard's verdict, then up to ``detail`` rows per list."""
        where = f"{self.mis}, school {self.school}" if self.school != "default" else self.mis
        table = Table(title=f"Sync plan {self.hash[:12]} ({where})")
        columns = ("extracted", "created", "updated", "disabled", "re_enabled")
        extra = (
            "memberships_started",
            "memberships_ended",
            "linked",
            "unmatched",
            "rejected",
            "held",
        )
        table.add_column("dataset")
        table.add_column("extract")
        for name in (*columns, *extra):
            table.add_column(name.replace("_", " "), justify="right")
        for dataset, dplan in self._in_order():
            counts = dplan.counts()
            table.add_row(
                dataset.value,
                dplan.status,
                *(str(counts[c]) for c in (*columns, *extra)),
            )
        console.print(table)
        if self.claims is not None:
            console.print(
                f"This plan claims the records the store held before it was shared by "
                f"schools (key {self.claims!r}): applying it files them under {self.school!r}.",
                markup=False,
                highlight=False,
            )
        if self.empty:
            console.print("Nothing to change: the store already matches this extract.")
        for _, dplan in self._in_order():
            _render_details(console, dplan, detail)
        render_guard(console, self.breaches, self.hash, self.folder)


def approve_command(
    plan: Plan | None, plan_hash: str | None = None, folder: str | None = None
) -> str:
    """The command that applies exactly this refused plan, with its extract folder."""
    import shlex

    where = folder or (plan.folder if plan is not None else None)
    digest = plan_hash or (plan.hash if plan is not None else "")
    named = plan is not None and plan.school != "default"
    school = f" --school {shlex.quote(plan.school)}" if named and plan is not None else ""
    if where is None:
        return (
            f"misbridge store apply EXTRACT_FOLDER{school} --approve {digest} (the folder the "
            "extract was written to with --out)"
        )
    return f"misbridge store apply {shlex.quote(where)}{school} --approve {digest}"


def render_guard(
    console: Console, breaches: list[GuardBreach], plan_hash: str, folder: str | None = None
) -> None:
    if not breaches:
        console.print("[green]Guard: passed.[/]")
        return
    console.print("[bold red]Guard: this plan would be refused.[/]")
    for breach in breaches:
        console.print(f"  - {breach.message}")
    console.print(
        f"Review it, then approve exactly this plan with: "
        f"{approve_command(None, plan_hash, folder)}",
        markup=False,
        highlight=False,
    )


def _render_details(console: Console, dplan: DatasetPlan, limit: int) -> None:
    sections: list[tuple[str, list[str]]] = [
        ("disable", [f"{d.label}: {d.reason}" for d in dplan.disables if d.kind != MEMBERSHIP]),
        ("held, not disabled", [h.label for h in dplan.held if h.kind != MEMBERSHIP]),
        ("re-enable", [r.label for r in dplan.reenables if r.kind != MEMBERSHIP]),
        ("update", [f"{u.label}: {', '.join(sorted(u.changes))}" for u in dplan.updates]),
        ("link by natural key", [f"{k.label} by {k.matched_by}" for k in dplan.links]),
        ("created without a match", [c.label for c in dplan.unmatched]),
        ("ambiguous", list(dplan.ambiguous)),
        ("rejected", [e.message for e in dplan.errors]),
    ]
    for title, lines in sections:
        if not lines:
            continue
        console.print(f"[bold]{dplan.dataset.value}: {title} ({len(lines)})[/]")
        for line in sorted(lines)[:limit]:
            console.print(f"  {line}", markup=False, highlight=False)
        if len(lines) > limit:
            console.print(f"  ... and {len(lines) - limit} more (see the JSON plan)")
