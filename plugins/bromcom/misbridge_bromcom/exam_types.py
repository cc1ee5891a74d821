"""Which assessment types are exam results, whatever their spelling.

Bromcom's assessment results hold every kind of assessment (target grades, tests,
reports) next to the exam results, each named by ``assessmentTypeName`` as the school
typed it: "GCSE", "GCSE (9-1)", "GCE A Level", "A-Level", "ALevel", "AS", "GCE AS Level".
An entry of the ``exam_types`` setting matches a type when its words appear together in
the type's name, ignoring case, punctuation and the spaces between words ("A Level"
matches "GCE A-Level" and "ALevel"; "GCSE" matches "GCSE (9-1)" but not "IGCSE").
Types that match no entry are counted by name, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["DEFAULT_EXAM_TYPES", "ExamTypes"]

DEFAULT_EXAM_TYPES = "GCSE,GCE,A Level,AS Level,AS,A2,Advanced Level,Advanced Subsidiary"

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class ExamTypes:
    """The ``exam_types`` setting, as a matcher over assessment type names."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = tuple(e.strip() for e in entries if e.strip())
        self._wanted = {"".join(_words(e)) for e in self.entries} - {""}

    def __bool__(self) -> bool:
        return bool(self._wanted)

    def matches(self, name: str | None) -> bool:
        """Whether an assessment type (as Bromcom names it) is an exam result."""
        words = _words(name or "")
        for start in range(len(words)):
            joined = ""
            for word in words[start:]:
                joined += word
                if joined in self._wanted:
                    return True
        return False
