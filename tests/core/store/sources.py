"""Sample schools as extract results through the real normaliser, and re-numbered copies
(another MIS's view of the same school: every MIS id differs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from attrs import evolve

from misbridge.errors import Severity
from misbridge.model import Dataset
from misbridge.normalise import Normaliser
from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus
from misbridge.source import SourceSchool


def normalised(school: SourceSchool, mis: str) -> ExtractResult:
    """What a complete extract of ``school`` from ``mis`` gives the store."""
    normaliser = Normaliser(mis=mis)
    result = ExtractResult(mis=mis, started=datetime(2026, 10, 1, 2, tzinfo=UTC))
    for dataset in Dataset:
        kept = []
        for source in school.records(dataset):
            model, errors = normaliser.normalise(dataset, source)
            result.errors.extend(errors)
            if model is not None and not any(e.severity is Severity.ERROR for e in errors):
                kept.append(model)
        result.records[dataset] = kept
        result.outcomes[dataset] = DatasetOutcome(dataset, OutcomeStatus.COMPLETE, len(kept))
    return result


def renumbered(school: SourceSchool, new: Callable[[str], str]) -> SourceSchool:
    """The same school with every MIS id (and every reference to one) replaced."""
    return evolve(
        school,
        academic_years=tuple(evolve(y, mis_id=new(y.mis_id)) for y in school.academic_years),
        year_groups=tuple(evolve(y, mis_id=new(y.mis_id)) for y in school.year_groups),
        staff=tuple(evolve(s, mis_id=new(s.mis_id)) for s in school.staff),
        students=tuple(evolve(s, mis_id=new(s.mis_id)) for s in school.students),
        groups=tuple(evolve(g, mis_id=new(g.mis_id)) for g in school.groups),
        memberships=tuple(
            evolve(m, group_mis_id=new(m.group_mis_id), person_mis_id=new(m.person_mis_id))
            for m in school.memberships
        ),
        photos=tuple(evolve(p, person_mis_id=new(p.person_mis_id)) for p in school.photos),
        exam_results=tuple(
            evolve(r, student_mis_id=new(r.student_mis_id)) for r in school.exam_results
        ),
    )
