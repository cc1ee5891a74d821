"""What a sync did (or, in a dry run, would do)."""

from __future__ import annotations

from typing import Any

from attrs import define, field
from rich.console import Console
from rich.table import Table

from misbridge.errors import RecordError
from misbridge.store.plan import GuardBreach, Plan, render_guard

__all__ = ["SyncReport"]


@define
class SyncReport:
    mis: str
    plan_hash: str
    applied: bool
    dry_run: bool = False
    refused: bool = False  # the guard refused (or, in a dry run, would refuse) the plan
    approved: bool = False  # applied on an operator's approval of this exact plan
    counts: dict[str, dict[str, int]] = field(factory=dict)
    errors: list[RecordError] = field(factory=list)  # processing errors (stage "processing")
    breaches: list[GuardBreach] = field(factory=list)
    writes: int = 0  # roster rows written (0 for an unchanged re-apply)
    run_id: int | None = None
    seconds: float = 0.0
    folder: str | None = None  # the extract folder the plan came from, for messages

    @classmethod
    def from_plan(cls, plan: Plan, **kwargs: Any) -> SyncReport:
        return cls(
            mis=plan.mis,
            plan_hash=plan.hash,
            counts=plan.counts(),
            errors=plan.errors,
            breaches=list(plan.breaches),
            folder=plan.folder,
            **kwargs,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "mis": self.mis,
            "plan_hash": self.plan_hash,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "approved": self.approved,
            "counts": self.counts,
            "writes": self.writes,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 3),
            "breaches": [b.as_dict() for b in self.breaches],
            "errors": [e.as_dict() for e in self.errors],
        }

    def render(self, console: Console) -> None:
        if self.dry_run:
            title = "Dry run: nothing was written"
        elif self.applied:
            title = f"Sync applied (run {self.run_id}, {self.writes} rows written)"
        else:
            title = "Sync not applied"
        table = Table(title=title)
        names = (
            "created",
            "updated",
            "disabled",
            "re_enabled",
            "memberships_started",
            "memberships_ended",
            "linked",
            "unmatched",
            "rejected",
        )
        table.add_column("dataset")
        for name in names:
            table.add_column(name.replace("_", " "), justify="right")
        for dataset, counts in self.counts.items():
            table.add_row(dataset, *(str(counts.get(n, 0)) for n in names))
        console.print(table)
        if self.approved:
            console.print(f"Applied on approval of plan {self.plan_hash}.")
        if self.dry_run or self.refused:
            render_guard(console, self.breaches, self.plan_hash, self.folder)
        if self.errors:
            console.print(f"[bold]{len(self.errors)} record(s) rejected while processing:[/]")
            for error in self.errors[:20]:
                console.print(f"  {error.code} {error.message}", markup=False, highlight=False)
            if len(self.errors) > 20:
                console.print(f"  ... and {len(self.errors) - 20} more (see the JSON report)")
