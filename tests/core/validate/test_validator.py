"""Validator: profiles, DfE rules, messages a data manager can act on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import ConfigurationError, Severity
from misbridge.model import (
    AcademicYear,
    Dataset,
    GroupKind,
    Membership,
    Role,
    SenStatus,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.validate import Profile, Validator, email_ok, ethnicity_codes

TODAY = date(2025, 1, 15)
S = Dataset.STUDENTS


def good(**kw: object) -> Student:
    base: dict[str, object] = {
        "mis_id": "42",
        "admission_number": "001234",
        "upn": "B801200005001",
        "legal_forename": "Ann",
        "legal_surname": "Lee",
        "date_of_birth": date(2012, 3, 4),
        "personal_email": "ann@home.example",
    }
    base.update(kw)
    return Student(**base)  # type: ignore[arg-type]


def codes(v: Validator, record: object, dataset: Dataset = S) -> list[str]:
    return [e.code for e in v.validate(dataset, record)]  # type: ignore[arg-type]


ROSTER = Validator("roster", mis="sims", mis_title="SIMS", today=TODAY)
ACCOUNTS = Validator("account-sync", mis="sims", mis_title="SIMS", today=TODAY)


def test_good_record_passes_both_profiles() -> None:
    assert codes(ROSTER, good()) == []
    assert codes(ACCOUNTS, good()) == []


def test_seed_message_for_a_missing_surname() -> None:
    (error,) = ROSTER.validate(S, good(legal_surname=None))
    assert error.code == "MB2002" and error.field == "surname"
    assert error.message == (
        "No surname in SIMS for admission number 001234: add it in SIMS, it will sync next run"
    )
    assert (error.mis, error.mis_id, error.record_label) == (
        "sims",
        "42",
        "admission number 001234",
    )
    assert error.severity is Severity.ERROR and error.stage.value == "on-site"


def test_all_errors_of_a_record_at_once() -> None:
    bad = good(
        legal_forename=None,
        legal_surname=None,
        date_of_birth=None,
        upn="A801200005001",
        ethnicity="XXXX",
        sen=(SenStatus("S"), SenStatus("K", date(2024, 1, 1), date(2023, 1, 1))),
        admission_date=date(2024, 9, 1),
        leaving_date=date(2024, 7, 1),
        personal_email="not-an-email",
    )
    assert sorted(codes(ROSTER, bad)) == sorted(
        ["MB2001", "MB2002", "MB2004", "MB1510", "MB4010", "MB4020", "MB3020", "MB3020", "MB5010"]
    )


def test_profiles_choose_what_is_required() -> None:
    no_email = good(personal_email=None)
    no_dob = good(date_of_birth=None)
    assert codes(ROSTER, no_email) == [] and codes(ACCOUNTS, no_email) == ["MB5001"]
    assert codes(ROSTER, no_dob) == ["MB2004"] and codes(ACCOUNTS, no_dob) == []
    assert codes(ACCOUNTS, good(personal_email=None, work_email="a@school.example")) == []
    strict = Validator(Profile("census", frozenset({"upn"}), frozenset()), today=TODAY)
    assert codes(strict, good(upn=None)) == ["MB1500"]
    assert codes(ROSTER, good(upn=None)) == []


def test_preferred_names_satisfy_the_name_rule() -> None:
    assert codes(ROSTER, good(legal_forename=None, preferred_forename="Annie")) == []


def test_unknown_profile_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown validation profile 'rooster'"):
        Validator("rooster")
    with pytest.raises(ConfigurationError, match="cannot require"):
        Profile("x", frozenset({"shoe_size"}), frozenset())


@pytest.mark.parametrize("code", ["WBRI", "WCOR", "WOWB", "MWAP", "REFU", "NOBT", "OOTH", "BSOM"])
def test_dfe_ethnicity_codes_pass(code: str) -> None:
    assert codes(ROSTER, good(ethnicity=code)) == []


def test_extended_codes_roll_up_to_main_codes() -> None:
    table = ethnicity_codes()
    assert table.main_code("WCOR") == "WBRI" and table.main_code("WROG") == "WROM"
    assert table.main_code("BSOM") == "BAFR" and table.main_code("WBRI") == "WBRI"
    assert table.main_code("NOPE") is None
    assert table.version


@pytest.mark.parametrize(
    ("dob", "ok"),
    [
        (date(2023, 1, 15), True),  # exactly 2 today
        (date(2023, 1, 16), False),  # 2 tomorrow
        (date(1999, 1, 16), True),  # 25, 26 tomorrow
        (date(1999, 1, 15), False),  # 26 today
        (date(2012, 3, 4), True),
        (date(1912, 3, 4), False),  # wrong century
    ],
)
def test_date_of_birth_plausible_for_a_school(dob: date, ok: bool) -> None:
    assert codes(ROSTER, good(date_of_birth=dob)) == ([] if ok else ["MB3010"])


def _age(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


@given(
    st.dates(date(1990, 1, 1), date(2030, 12, 31)),
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.integers(0, 5),
    st.integers(10, 30),
)
def test_age_bounds_match_the_age_oracle(dob: date, today: date, low: int, high: int) -> None:
    v = Validator(today=today, age_range=(low, high))
    plausible = "MB3010" not in codes(v, good(date_of_birth=dob))
    assert plausible == (low <= _age(dob, today) <= high)


def test_ranges_ordered_for_memberships_years_and_year_groups() -> None:
    m = Membership("g", GroupKind.CLASS, "42", Role.STUDENT, date(2024, 9, 1), date(2024, 8, 1))
    (error,) = ROSTER.validate(Dataset.GROUPS, m)
    assert (error.code, error.field, error.mis_id) == ("MB3020", "start", "42")
    assert "membership" in error.message and "group MIS id g" in error.message
    ay = AcademicYear("ay", "2024/25", date(2025, 8, 31), date(2024, 9, 1))
    assert codes(ROSTER, ay, Dataset.YEARS) == ["MB3020"]
    yg = YearGroup("y7", "Year 7", "7", date(2024, 9, 1), None)
    assert codes(ROSTER, yg, Dataset.YEARS) == []
    same_day = Membership(
        "g", GroupKind.CLASS, "42", Role.STUDENT, date(2024, 9, 1), date(2024, 9, 1)
    )
    assert codes(ROSTER, same_day, Dataset.GROUPS) == []


def test_staff() -> None:
    staff = StaffMember(
        "s1", "Mr", "Tom", "Hill", work_email="t.hill@school.example", staff_code="THI"
    )
    assert codes(ACCOUNTS, staff, Dataset.STAFF) == []
    (error,) = ROSTER.validate(Dataset.STAFF, StaffMember("s1", forename="Tom", staff_code="THI"))
    assert error.code == "MB2002" and error.record_label == "staff code THI"
    assert codes(ACCOUNTS, StaffMember("s2", forename="A", surname="B"), Dataset.STAFF) == [
        "MB5001"
    ]
    assert codes(ROSTER, StaffMember("s2", forename="A", surname="B"), Dataset.STAFF) == []


def test_label_falls_back_to_mis_id_and_names_the_mis() -> None:
    (error,) = Validator("roster", mis="wonde", mis_title="Wonde", today=TODAY).validate(
        S, good(admission_number=None, legal_forename=None)
    )
    assert error.message == (
        "No forename in Wonde for student with MIS id 42: add it in Wonde, it will sync next run"
    )


def test_messages_never_carry_personal_values() -> None:
    bad = good(
        legal_forename="Zebedee",
        legal_surname=None,
        date_of_birth=date(1900, 2, 3),
        personal_email="zeb@@x",
        ethnicity="QQQQ",
        upn="A801200005001",
    )
    for error in ROSTER.validate(S, bad):
        for value in ("Zebedee", "1900", "zeb@", "QQQQ", "A801200005001"):
            assert value not in error.message


def test_duplicate_upns_and_ids_in_one_extract() -> None:
    a = good()
    b = good(mis_id="43", admission_number="001235")
    c = good(mis_id="42", admission_number="001236", upn=None)
    errors = ROSTER.check_batch(S, [a, b, c])
    assert [(e.code, e.mis_id) for e in errors] == [("MB1520", "43"), ("MB1010", "42")]
    assert "also used by admission number 001234" in errors[0].message


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("a@b.org", True),
        ("first.last+tag@school.sch.uk", True),
        ("a@b", False),
        ("@b.org", False),
        ("a@@b.org", False),
        ("a b@c.org", False),
        ("a@.org", False),
        ("a@b.", False),
    ],
)
def test_email_shape(address: str, ok: bool) -> None:
    assert email_ok(address) is ok
