"""The normalised and validated sample school, pinned to a digest.

Computed on the code before the per-school CPU work (issue 16): the normaliser, the
validator and the batch checks must give exactly the same records and errors, in the
same order, whatever is done to make them faster. A deliberate change of output updates
the literal here, with the reason in the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from attrs import evolve

from misbridge.errors import RecordError, Severity
from misbridge.model import Dataset
from misbridge.normalise import Normaliser, NormaliseSettings
from misbridge.result import ModelRecord
from misbridge.source import RawDate, RawFlag, SourceSchool, SourceStudent
from misbridge.testing.school import sample_school
from misbridge.validate import BatchChecker, Validator
from tests.digest import digest

TODAY = date(2026, 10, 1)
SAMPLE_DIGEST = "671042ad4cfc330aa775f67f202facdb3c667945108fa73020a69dd6ccdc2f8e"
RENDERED_DIGEST = "a4f430c6d7787a27fc10dc930d29661c52766fe3a75e08539387fb496080bed7"


def _rendered(school: SourceSchool) -> SourceSchool:
    """The same pupils as other vendors send their dates and flags (SIMS text, Wonde's
    Carbon objects, "Yes"/"No"), so that the parsers' paths are pinned too; a few values
    are made unreadable or wrong, so that those errors' wording is pinned as well."""

    def sims(d: RawDate) -> RawDate:
        return d.strftime("%d/%m/%Y 00:00:00") if isinstance(d, date) else d

    def carbon(d: RawDate) -> RawDate:
        if not isinstance(d, date):
            return d
        return {"date": f"{d.isoformat()} 00:00:00.000000", "timezone_type": 3, "timezone": "UTC"}

    def same(d: RawDate) -> RawDate:
        return d

    def yes_no(f: RawFlag) -> RawFlag:
        return None if f is None else ("Yes" if f else "No")

    students: list[SourceStudent] = []
    for i, s in enumerate(school.students):
        render: Callable[[RawDate], RawDate] = (same, sims, carbon)[i % 3]
        students.append(
            evolve(
                s,
                date_of_birth=render(s.date_of_birth),
                admission_date=render(s.admission_date),
                leaving_date=render(s.leaving_date),
                fsm=yes_no(s.fsm) if i % 2 else s.fsm,
                eal=yes_no(s.eal) if i % 2 else s.eal,
            )
        )
        if i % 41 == 7:
            students[-1] = evolve(students[-1], date_of_birth="31/02/2012", fsm="perhaps")
        if i % 43 == 5:
            students[-1] = evolve(students[-1], upn="A" + (s.upn or "X" * 13)[1:], gender="?")
    memberships = [
        evolve(m, start=sims(m.start), end=carbon(m.end)) if i % 2 else m
        for i, m in enumerate(school.memberships)
    ]
    for i in range(3, len(memberships), 97):
        memberships[i] = evolve(memberships[i], start="soon", end=date(2000, 1, 1))
    return evolve(school, students=tuple(students), memberships=tuple(memberships))


def _normalise_and_validate(
    school: SourceSchool,
) -> tuple[dict[str, list[ModelRecord]], list[RecordError]]:
    # As the pipeline does it: normalise, validate, the batch checks, then reject a
    # record with any error-severity problem.
    normaliser = Normaliser(NormaliseSettings(), mis="sims", mis_title="SIMS")
    validator = Validator("roster", mis="sims", mis_title="SIMS", today=TODAY)
    batch = BatchChecker(validator)
    records: dict[str, list[ModelRecord]] = {}
    errors: list[RecordError] = []
    for dataset in Dataset:
        kept = records.setdefault(dataset.value, [])
        for source in school.records(dataset):
            model, found = normaliser.normalise(dataset, source)
            if model is not None:
                found = [*found, *validator.validate(dataset, model), *batch.add(dataset, model)]  # type: ignore[arg-type]
            errors.extend(found)
            if model is not None and not any(e.severity is Severity.ERROR for e in found):
                kept.append(model)  # type: ignore[arg-type]
    return records, errors


def test_the_sample_school_normalises_and_validates_to_the_pinned_digest() -> None:
    school = sample_school(seed=0, students=150, staff=24, assessments=True)
    records, errors = _normalise_and_validate(school)
    assert errors, "the sample school's messy pupils must give errors"
    assert digest({"records": records, "errors": errors}) == SAMPLE_DIGEST


def test_vendor_renderings_normalise_to_the_pinned_digest() -> None:
    school = _rendered(sample_school(seed=0, students=150, staff=24, assessments=True))
    records, errors = _normalise_and_validate(school)
    assert digest({"records": records, "errors": errors}) == RENDERED_DIGEST
