"""What an extract returns: records, per-record errors and per-dataset outcomes."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeAlias

from attrs import define, field, frozen

from misbridge.errors import RecordError, Severity
from misbridge.model import (
    AcademicYear,
    Assessment,
    Dataset,
    Deletion,
    ExamResult,
    Group,
    Membership,
    Photo,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.reads import Checkpoint

__all__ = ["DatasetOutcome", "ExtractResult", "ModelRecord", "OutcomeStatus"]

ModelRecord: TypeAlias = (
    AcademicYear
    | YearGroup
    | StaffMember
    | Student
    | Group
    | Membership
    | Photo
    | ExamResult
    | Assessment
)


class OutcomeStatus(enum.StrEnum):
    """How a dataset's read ended (see :mod:`misbridge.reads` for what proves a read)."""

    COMPLETE = "complete"  # read to its end and proven whole (a vendor total matched)
    UNVERIFIED = "unverified"  # read to its end, but the vendor gives nothing to check it
    PARTIAL = "partial"  # stopped part-way, or shorter than the vendor's total: never trusted
    FAILED = "failed"  # nothing usable was read
    UNSUPPORTED = "unsupported"  # the MIS plugin does not offer this dataset

    @property
    def read_to_end(self) -> bool:
        return self in (OutcomeStatus.COMPLETE, OutcomeStatus.UNVERIFIED)


@frozen
class DatasetOutcome:
    dataset: Dataset
    status: OutcomeStatus
    records: int = 0
    rejected: int = 0
    message: str | None = None
    delta: bool = False  # the plugin read only what changed (since a checkpoint or time)
    deletions: int = 0  # records the vendor named as deleted

    @property
    def trusted(self) -> bool:
        """Whether a sync may treat absence from this dataset as "left the school".

        Only a proven, full read may: a partial, failed or unverified dataset, or a delta
        (which holds only what changed), never disables the records it lacks. Records the
        vendor names as deleted are disabled whatever the read."""
        return self.status is OutcomeStatus.COMPLETE and not self.delta

    @property
    def incremental(self) -> bool:
        """The former name of :attr:`delta`."""
        return self.delta


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

    #: The school this extract is of (the checkpoint and store key), when known.
    school: str | None = None
    #: The model fields this source does not carry ("Student.home_address"...): a sync
    #: never empties a stored value because such a field came back empty.
    lacks: frozenset[str] = frozenset()
    #: Records the vendor named as deleted, per dataset (disabled one by one).
    deletions: dict[Dataset, list[Deletion]] = field(
        factory=dict, repr=lambda d: f"<{sum(map(len, d.values()))} deletions>"
    )
    #: Per dataset read to its end: where its next incremental read may start. Kept by
    #: the caller only once this extract has been used (applied, or written out).
    checkpoints: dict[Dataset, Checkpoint] = field(factory=dict)

    @property
    def ok(self) -> bool:
        """True when every dataset asked for was read to its end (complete or unverified)."""
        return all(
            o.status.read_to_end or o.status is OutcomeStatus.UNSUPPORTED
            for o in self.outcomes.values()
        )

    def of(self, dataset: Dataset) -> list[ModelRecord]:
        return self.records.get(dataset, [])

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``: counts only, no personal data."""
        by_code: dict[str, int] = {}
        for error in self.errors:
            by_code[error.code] = by_code.get(error.code, 0) + 1
        from misbridge.errorcodes import mis_title

        return {
            "mis": self.mis,
            "mis_title": mis_title(self.mis),
            "school": self.school,
            "lacks": sorted(self.lacks),
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "ok": self.ok,
            "datasets": {
                d.value: {
                    "status": o.status.value,
                    "records": o.records,
                    "rejected": o.rejected,
                    "message": o.message,
                    "delta": o.delta,
                    "deletions": o.deletions,
                }
                for d, o in self.outcomes.items()
            },
            "errors": sum(1 for e in self.errors if e.severity is Severity.ERROR),
            "warnings": sum(1 for e in self.errors if e.severity is Severity.WARNING),
            "errors_by_code": dict(sorted(by_code.items())),
            "checkpoints": {d.value: c.as_dict() for d, c in sorted(self.checkpoints.items())},
        }
