"""Validator invariants over generated records: never crashes, only documented codes,
and no personal value ever reaches a message."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.model import Dataset, Student
from misbridge.normalise import Normaliser
from misbridge.source import SourceEmail, SourceStudent
from misbridge.validate import CODES, Validator
from tests.core.normalise.test_normaliser import students

NORMALISER = Normaliser(mis="bromcom", mis_title="Bromcom")
VALIDATORS = [
    Validator(p, mis="bromcom", mis_title="Bromcom", today=date(2026, 1, 1))
    for p in ("roster", "account-sync")
]

# Values that a message must never contain: names, emails, the DOB, the UPN.
personal = st.builds(
    SourceStudent,
    mis_id=st.just("77"),
    admission_number=st.just("000077"),
    upn=st.sampled_from(["A801200005001", "B801200005001", "XYZ"]),
    legal_forename=st.sampled_from(["Zephyrine", "  ", None]),
    legal_surname=st.sampled_from(["Quillfeather", None]),
    date_of_birth=st.sampled_from([date(1911, 11, 11), "31/02/1999", None]),
    ethnicity=st.sampled_from(["QQQQ", "WBRI"]),
    emails=st.sampled_from(
        [(), (SourceEmail("H", "zephy@@quill"),), (SourceEmail("W", "zq@school.example"),)]
    ),
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)
@given(students)
def test_never_crashes_and_uses_only_documented_codes(record: SourceStudent) -> None:
    model, errors = NORMALISER.normalise(Dataset.STUDENTS, record)
    if model is None:
        return
    assert isinstance(model, Student)
    for validator in VALIDATORS:
        found = errors + validator.validate(Dataset.STUDENTS, model)
        for error in found:
            assert error.code in CODES
            assert error.mis == "bromcom" and "Bromcom" in error.message
            assert error.mis_id == model.mis_id


@given(personal)
def test_messages_never_carry_personal_values(record: SourceStudent) -> None:
    model, errors = NORMALISER.normalise(Dataset.STUDENTS, record)
    assert model is not None
    for validator in VALIDATORS:
        for error in errors + validator.validate(Dataset.STUDENTS, model):
            text = f"{error.message} {error.record_label} {error.field}"
            for value in ("Zephyrine", "Quillfeather", "1911", "1999", "zephy", "zq@", "QQQQ"):
                assert value not in text
            assert "801200005001" not in text and "XYZ" not in text
            assert "admission number 000077" in error.message
