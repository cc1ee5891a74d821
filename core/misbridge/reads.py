"""What a plugin says about each dataset it read: totals, deltas and checkpoints.

A sync may only treat "absent from the extract" as "left the school" when the read is
*proven* whole. The plugin is the only one who knows what its vendor offers as proof,
so, while a dataset streams, it reports on :meth:`ExtractContext.read(dataset)
<misbridge.hooktypes.ExtractContext.read>`:

- :meth:`DatasetRead.counted`: a list was read and the vendor's own total for it is
  known (Wonde's ``/counts``, a ``meta.pagination.total``). Read and total differ: the
  dataset is ``partial``, never ``complete``;
- :meth:`DatasetRead.whole_document`: the list is one self-delimiting answer read to
  its end (a CommandReporter XML document, closed, the process exiting 0);
- :meth:`DatasetRead.uncounted`: a list read to its end that nothing can check (paged
  APIs without totals). Its dataset is ``unverified``, like one with no report at all;
- :meth:`DatasetRead.delta`: the read holds only what changed (since a checkpoint or
  ``--since``): it never disables anyone, except records the vendor names as deleted;
- :meth:`DatasetRead.advance`: the checkpoint the *next* read may start from. The core
  keeps it only when this dataset was read to its end, and, with a store, only when the
  sync that used it was applied;
- :meth:`DatasetRead.problem` and :meth:`DatasetRead.note`: a record the plugin had to
  leave out or could not place (a :class:`~misbridge.errors.RecordError` that reaches
  the reports like the normaliser's own), and a fact the data manager should see in
  the dataset's outcome (so many exam results of an excluded type, photos withheld for
  want of consent).

:func:`settle` turns a report into the dataset's outcome status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import define, field, frozen

from misbridge.errors import ConfigurationError, RecordError
from misbridge.model import Dataset

__all__ = ["Checkpoint", "DatasetRead", "ListCount", "aware_utc", "settle"]


def aware_utc(moment: datetime, what: str = "since") -> datetime:
    """``moment`` in UTC; a naive time is refused (it has no one meaning)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigurationError(
            f"{what} {moment.isoformat()} has no time zone, so it could mean any of several "
            f"moments; give one, e.g. {moment.strftime('%Y-%m-%dT%H:%M')}Z for UTC or "
            f"{moment.strftime('%Y-%m-%dT%H:%M')}+01:00 for British Summer Time",
            setting=what,
        )
    return moment.astimezone(UTC)


@frozen
class Checkpoint:
    """Where an incremental read of one dataset may start: a moment (UTC) and, for
    vendors that number their changes (Arbor's revisions), a ``mark`` of plain JSON."""

    at: datetime
    mark: Any = None

    def __attrs_post_init__(self) -> None:
        aware_utc(self.at, "checkpoint")

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.astimezone(UTC).isoformat(), "mark": self.mark}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        return cls(datetime.fromisoformat(str(data["at"])).astimezone(UTC), data.get("mark"))


@frozen
class ListCount:
    """One list of a dataset: what was read against what the vendor says it holds."""

    what: str
    read: int
    expected: int | None  # None: nothing to check it against
    document: bool = False  # one self-delimiting answer, read to its end

    @property
    def proven(self) -> bool:
        return self.document or (self.expected is not None and self.read == self.expected)

    @property
    def short(self) -> bool:
        return self.expected is not None and self.read != self.expected


@define
class DatasetRead:
    """A plugin's report on one dataset's read (see the module docstring)."""

    dataset: Dataset
    lists: list[ListCount] = field(factory=list)
    is_delta: bool = False
    next_checkpoint: Checkpoint | None = None
    deletions: int = 0
    problems: list[RecordError] = field(factory=list)
    notes: list[str] = field(factory=list)

    def counted(self, what: str, *, read: int, expected: int) -> None:
        """``what`` (say "students") was read: ``read`` records of the ``expected``."""
        self.lists.append(ListCount(what, int(read), int(expected)))

    def whole_document(self, what: str, *, read: int) -> None:
        """``what`` came as one self-delimiting answer, read to its end."""
        self.lists.append(ListCount(what, int(read), None, document=True))

    def uncounted(self, what: str, *, read: int) -> None:
        """``what`` was read to its end, but the vendor gives no total to check it."""
        self.lists.append(ListCount(what, int(read), None))

    def delta(self) -> None:
        """This read holds only changes: absence from it means nothing."""
        self.is_delta = True

    def problem(self, error: RecordError) -> None:
        """A record this read left out or could not place: reported with the others."""
        self.problems.append(error)

    def note(self, text: str) -> None:
        """A fact about this read for the dataset's outcome (no personal data)."""
        self.notes.append(text)

    def advance(self, at: datetime, mark: Any = None) -> None:
        """The checkpoint the next incremental read may start from."""
        self.next_checkpoint = Checkpoint(aware_utc(at, "checkpoint"), mark)


def settle(read: DatasetRead | None, mis_title: str) -> tuple[str, str | None]:
    """The outcome status (``complete``, ``unverified`` or ``partial``) of a dataset read
    to its end, and the message saying why when it is not ``complete``."""
    lists = read.lists if read is not None else []
    short = [c for c in lists if c.short]
    if short:
        detail = "; ".join(f"{c.read} of the {c.expected} {c.what}" for c in short)
        return "partial", (
            f"read {detail} {mis_title} counts: the answers were short, so this read is "
            "not trusted for leavers; run the extract again"
        )
    unproven = [c.what for c in lists if not c.proven]
    if lists and not unproven:
        return "complete", None
    what = ", ".join(unproven) if unproven else "this dataset"
    return "unverified", (
        f"{mis_title} gives no total to check {what} against: records absent from this read "
        "are not disabled (see docs/store.md, 'Unverified reads')"
    )
