"""The shared sample school's messy pupils, through the normaliser and the validator."""

from __future__ import annotations

from datetime import date

import pytest

from misbridge.model import Dataset, EmailPreference, Student
from misbridge.normalise import Normaliser, to_source
from misbridge.testing.school import sample_school
from misbridge.validate import BatchChecker, Validator

SCHOOL = sample_school(seed=3, students=120)
N = Normaliser(mis="wonde")


def student(mis_id: str) -> Student:
    (record,) = [s for s in SCHOOL.students if s.mis_id == mis_id]
    model, _ = N.normalise(Dataset.STUDENTS, record)
    assert isinstance(model, Student)
    return model


def test_messy_selection_cases() -> None:
    raw = next(s for s in SCHOOL.students if s.mis_id == "90001")
    latest = max((a for a in raw.addresses if a.type == "H"), key=lambda a: a.start)  # type: ignore[arg-type, return-value]
    assert student("90001").home_address.postcode == latest.postcode  # type: ignore[union-attr]
    s2 = student("90002")
    raw2 = next(s for s in SCHOOL.students if s.mis_id == "90002")
    assert s2.home_telephone == next(t.number for t in raw2.telephones if t.primary)
    assert s2.mobile_telephone == next(
        t.number for t in raw2.telephones if t.type == "M" and t.main
    )
    assert s2.email_preference is EmailPreference.WORK  # the Main email is a work one
    raw12 = next(s for s in SCHOOL.students if s.mis_id == "90012")
    dated = next(a for a in raw12.addresses if a.start is not None)
    assert student("90012").home_address.postcode == dated.postcode  # type: ignore[union-attr]
    guest = student("90007")
    assert guest.admission_number is None and guest.username == guest.personal_email
    assert student("90008").gender is None
    assert student("90009").upn[-1].isalpha()  # type: ignore[index]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("roster", {("90003", "MB2001"), ("90004", "MB2002"), ("90008", "MB4001")}),
        (
            "account-sync",
            {("90003", "MB2001"), ("90004", "MB2002"), ("90005", "MB5001"), ("90008", "MB4001")},
        ),
    ],
)
def test_whole_school_errors_are_exactly_the_messy_ones(
    profile: str, expected: set[tuple[str, str]]
) -> None:
    validator = Validator(profile, mis="wonde", today=date(2026, 11, 1))
    batch = BatchChecker(validator)
    found: set[tuple[str, str]] = set()
    for dataset in Dataset:
        for record in SCHOOL.records(dataset):
            model, errors = N.normalise(dataset, record)
            assert model is not None, errors
            errors += validator.validate(dataset, model) + batch.add(dataset, model)
            assert N.normalise(dataset, to_source(model))[0] == model
            found |= {(e.mis_id or "", e.code) for e in errors}
    assert found == expected
