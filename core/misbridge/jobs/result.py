"""What one school's run did: :class:`RunResult`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import define, field

from misbridge.errors import RecordError, Severity
from misbridge.model import Dataset
from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus
from misbridge.store.report import SyncReport

__all__ = [
    "EXIT_FAILED",
    "EXIT_GUARD",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "RunResult",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the run could not go on: authentication, configuration, MIS or store
EXIT_PARTIAL = 3  # some dataset failed or stopped part-way; the others were used
EXIT_GUARD = 4  # the store's guard refused the plan: nothing was applied
EXIT_LOCKED = 5  # another run of the same school held the lock: nothing was done


@define
class RunResult:
    """One school, one MIS, from settings to a finished run.

    ``extract`` holds the outcomes and every record error found on site; ``sync`` what
    the store did (None without a store), with the processing errors; ``files`` every
    file written (the extract, ``summary.json``, ``errors.jsonl``/``.csv``,
    ``report.html``)."""

    school: str
    mis: str
    extract: ExtractResult
    sync: SyncReport | None = None
    refusal: str | None = None  # the guard's message, when it refused the plan
    out: Path | None = None
    files: list[Path] = field(factory=list)
    errors: list[RecordError] = field(factory=list, repr=lambda e: f"<{len(e)} errors>")

    @property
    def started(self) -> datetime:
        return self.extract.started

    @property
    def finished(self) -> datetime | None:
        return self.extract.finished

    @property
    def outcomes(self) -> dict[Dataset, DatasetOutcome]:
        return self.extract.outcomes

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def applied(self) -> bool:
        return self.sync is not None and self.sync.applied

    @property
    def ok(self) -> bool:
        return self.extract.ok and not self.refused

    @property
    def exit_code(self) -> int:
        if self.refused:
            return EXIT_GUARD
        if self.extract.ok:
            return EXIT_OK
        if any(o.status.read_to_end for o in self.outcomes.values()):
            return EXIT_PARTIAL
        return EXIT_FAILED

    @property
    def status(self) -> str:
        """One word for the run: complete, unverified, partial, failed or refused."""
        if self.refused:
            return "refused"
        statuses = {o.status for o in self.outcomes.values()} - {OutcomeStatus.UNSUPPORTED}
        if not statuses or statuses <= {OutcomeStatus.COMPLETE}:
            return "complete"
        if statuses <= {OutcomeStatus.COMPLETE, OutcomeStatus.UNVERIFIED}:
            return "unverified"
        if statuses <= {OutcomeStatus.FAILED}:
            return "failed"
        return "partial"

    def summary(self) -> dict[str, Any]:
        """``summary.json``: counts and outcomes only, no personal data."""
        data = self.extract.summary()
        data["status"] = self.status
        data["exit_code"] = self.exit_code
        data["errors"] = sum(1 for e in self.errors if e.severity is Severity.ERROR)
        data["warnings"] = sum(1 for e in self.errors if e.severity is Severity.WARNING)
        by_code: dict[str, int] = {}
        for error in self.errors:
            by_code[error.code] = by_code.get(error.code, 0) + 1
        data["errors_by_code"] = dict(sorted(by_code.items()))
        if self.sync is not None:
            data["sync"] = {
                "plan_hash": self.sync.plan_hash,
                "applied": self.sync.applied,
                "dry_run": self.sync.dry_run,
                "refused": self.sync.refused or self.refused,
                "approved": self.sync.approved,
                "counts": self.sync.counts,
                "writes": self.sync.writes,
                "breaches": [b.as_dict() for b in self.sync.breaches],
            }
        return data
