"""What an extract returns: records, per-record errors and per-dataset outcomes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeAlias

from attrs import define, field, frozen

from misbridge.errors import RecordError, Severity
from misbridge.model import (
    AcademicYear,
    Dataset,
    ExamResult,
    Group,
    Membership,
    Photo,
    StaffMember,
    Student,
    YearGroup,
)

__all__ = ["DatasetOutcome", "ExtractResult", "ModelRecord", "OutcomeStatus"]

ModelRecord: TypeAlias = (
    AcademicYear | YearGroup | StaffMember | Student | Group | Membership | Photo | ExamResult
)


class OutcomeStatus(enum.StrEnum):
    COMPLETE = "complete"  # every record read; some may have been rejected as errors
    PARTIAL = "partial"  # the dataset stopped part-way: records so far are kept, never trusted
    FAILED = "failed"  # nothing usable was read
    UNSUPPORTED = "unsupported"  # the MIS plugin does not offer this dataset


@frozen
class DatasetOutcome:
    dataset: Dataset
    status: OutcomeStatus
    records: int = 0
    rejected: int = 0
    message: str | None = None
    incremental: bool = False  # only changes since a time were asked for

    @property
    def trusted(self) -> bool:
        """Whether a sync may treat absence from this dataset as "left the school".

        Only a complete, full read may: a partial or failed dataset, or an incremental
        one (which holds only what changed), never causes a disable."""
        return self.status is OutcomeStatus.COMPLETE and not self.incremental


@define
class ExtractResult:
    """The result of one extract. ``records`` is empty when the run streamed to a sink."""

    mis: str
    started: datetime
    finished: datetime | None = None
    outcomes: dict[Dataset, DatasetOutcome] = field(factory=dict)
    # Summarised in repr(): Python 3.11's asyncio.run formats the main task's result when
    # it restores the SIGINT handler, and a full repr of a school took seconds.
    records: dict[Dataset, list[ModelRecord]] = field(
        factory=dict, repr=lambda r: f"<{sum(map(len, r.values()))} records>"
    )
    errors: list[RecordError] = field(factory=list, repr=lambda e: f"<{len(e)} errors>")

    @property
    def ok(self) -> bool:
        """True when every dataset asked for completed."""
        return all(
            o.status in (OutcomeStatus.COMPLETE, OutcomeStatus.UNSUPPORTED)
            for o in self.outcomes.values()
        )

    def of(self, dataset: Dataset) -> list[ModelRecord]:
        return self.records.get(dataset, [])

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``: counts only, no personal data."""
        by_code: dict[str, int] = {}
        for error in self.errors:
            by_code[error.code] = by_code.get(error.code, 0) + 1
        return {
            "mis": self.mis,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "ok": self.ok,
            "datasets": {
                d.value: {
                    "status": o.status.value,
                    "records": o.records,
                    "rejected": o.rejected,
                    "message": o.message,
                    "incremental": o.incremental,
                }
                for d, o in self.outcomes.items()
            },
            "errors": sum(1 for e in self.errors if e.severity is Severity.ERROR),
            "warnings": sum(1 for e in self.errors if e.severity is Severity.WARNING),
            "errors_by_code": dict(sorted(by_code.items())),
        }
