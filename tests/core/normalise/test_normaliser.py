"""The Normaliser end to end: the documented cases, idempotence, no crash on any input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.errors import Severity
from misbridge.model import (
    AcademicYear,
    Address,
    Dataset,
    EmailPreference,
    ExamResult,
    Group,
    GroupKind,
    Membership,
    Photo,
    Role,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.normalise import Normaliser, NormaliseSettings, UsernamePolicy, to_source
from misbridge.source import (
    SourceAcademicYear,
    SourceAddress,
    SourceEmail,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)

N = Normaliser(mis="sims", mis_title="SIMS")
S = Dataset.STUDENTS
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16


def student(**kw: object) -> SourceStudent:
    base: dict[str, object] = {
        "mis_id": "1001",
        "admission_number": "001234",
        "legal_forename": "Ann",
        "legal_surname": "Lee",
    }
    base.update(kw)
    return SourceStudent(**base)  # type: ignore[arg-type]


def norm(record: SourceStudent, n: Normaliser = N) -> Student:
    model, _ = n.normalise(S, record)
    assert isinstance(model, Student)
    return model


def test_home_address_is_the_most_recent_home_one_with_its_own_postcode() -> None:
    model = norm(
        student(
            addresses=(
                SourceAddress("H", ("1 Old Road",), "AB1 1AA", "01/09/2015"),
                SourceAddress("W", ("Office",), "ZZ9 9ZZ", "2024-01-01"),
                SourceAddress("H", ("2 New Road", " Town "), "ab2 2bb", "2021-05-01T00:00:00"),
                SourceAddress("H", ("3 Undated",), "CD3 3CC", None),
            )
        )
    )
    assert model.home_address == Address(("2 New Road", "Town"), "AB2 2BB")


def test_telephones_primary_then_main_then_first() -> None:
    model = norm(
        student(
            telephones=(
                SourceTelephone("H", "0111", main=True),
                SourceTelephone("M", "07001"),
                SourceTelephone("H", "0222", primary=True),
                SourceTelephone("M", "07002", main=True),
                SourceTelephone("W", "0333", primary=True),
            )
        )
    )
    assert model.home_telephone == "0222"
    assert model.mobile_telephone == "07002"


def test_emails_and_preference() -> None:
    model = norm(
        student(
            emails=(
                SourceEmail("H", "first@home.example"),
                SourceEmail("H", "main@home.example", main=True),
                SourceEmail("W", "w1@school.example", primary=True),
                SourceEmail("W", "w2@school.example"),
            )
        )
    )
    assert model.personal_email == "main@home.example"
    assert model.work_email == "w1@school.example"
    assert model.email_preference is EmailPreference.WORK


def test_preference_defaults_to_personal() -> None:
    model = norm(student(emails=(SourceEmail("W", "w@school.example"),)))
    assert model.email_preference is EmailPreference.PERSONAL


def test_unmatched_gender_is_left_out_with_a_warning_not_guessed() -> None:
    model, errors = N.normalise(S, student(gender="Unknown"))
    assert isinstance(model, Student) and model.gender is None
    assert [(e.code, e.field, e.severity) for e in errors] == [
        ("MB4001", "gender", Severity.WARNING)
    ]
    assert norm(student(gender="f")).gender == "Female"


def test_names_are_trimmed_collapsed_and_nfc() -> None:
    model = norm(student(legal_forename="  Zoe\u0308  ", legal_surname="van  der\tBerg "))
    assert (model.legal_forename, model.legal_surname) == ("Zoë", "van der Berg")


def test_admission_number_keeps_leading_zeros() -> None:
    assert norm(student(admission_number=" 000123 ")).admission_number == "000123"


@pytest.mark.parametrize(
    ("raw", "code"), [("Year  7", "7"), ("Y7", "7"), ("7", "7"), ("Reception", "R"), ("R", "R")]
)
def test_year_group(raw: str, code: str) -> None:
    assert norm(student(year_group=raw)).year_group == code


def test_unknown_year_group_is_left_out_with_a_warning() -> None:
    model, errors = N.normalise(S, student(year_group="Sixth form"))
    assert isinstance(model, Student) and model.year_group is None
    assert [e.code for e in errors] == ["MB4030"]


def test_username_policies_and_email_fallback() -> None:
    emails = (SourceEmail("W", "w@school.example"), SourceEmail("H", "h@home.example"))
    by_admission = Normaliser(NormaliseSettings(UsernamePolicy.ADMISSION_NUMBER))
    by_directory = Normaliser(NormaliseSettings(UsernamePolicy.DIRECTORY))
    assert norm(student(emails=emails), by_admission).username == "001234"
    guest = student(admission_number=None, emails=emails)
    assert norm(guest, by_admission).username == "h@home.example"
    only_work = student(admission_number="  ", emails=emails[:1])
    assert norm(only_work, by_admission).username == "w@school.example"
    assert norm(student(directory_username="alee"), by_directory).username == "alee"
    assert norm(student(emails=emails), by_directory).username == "h@home.example"
    assert norm(student(), by_directory).username is None


def test_unreadable_dob_is_left_out_with_an_error_naming_the_field() -> None:
    model, errors = N.normalise(S, student(date_of_birth="31/02/2012"))
    assert isinstance(model, Student) and model.date_of_birth is None
    (error,) = errors
    assert (error.code, error.field, error.mis_id) == ("MB3001", "date_of_birth", "1001")
    assert error.message.startswith("The date of birth in SIMS for admission number 001234")
    assert "2012" not in error.message


def test_flags_codes_and_sen() -> None:
    model, errors = N.normalise(
        S,
        student(
            fsm="Yes",
            eal="N",
            pupil_premium=True,
            service_child="perhaps",
            ethnicity=" wbri ",
            upn=" b801200005001 ",
            sen=(
                SourceSen("SEN Support", "2020-09-01", "2021-07-31"),
                SourceSen("EHC Plan", "01/09/2021"),
                SourceSen(None, "2019-01-01"),
            ),
        ),
    )
    assert isinstance(model, Student)
    assert (model.fsm, model.eal, model.pupil_premium, model.service_child) == (
        True,
        False,
        True,
        None,
    )
    assert model.ethnicity == "WBRI" and model.upn == "B801200005001"
    assert [(s.code, s.start, s.end) for s in model.sen] == [
        ("K", date(2020, 9, 1), date(2021, 7, 31)),
        ("E", date(2021, 9, 1), None),
    ]
    assert sorted(e.code for e in errors) == ["MB4021", "MB4040"]
    assert next(e for e in errors if e.code == "MB4040").field == "service_child"


def test_staff_work_email_rule() -> None:
    def staff_email(*emails: SourceEmail) -> str | None:
        model, _ = N.normalise(Dataset.STAFF, SourceStaff("s1", emails=emails))
        assert isinstance(model, StaffMember)
        return model.work_email

    assert (
        staff_email(
            SourceEmail("W", "a@s"), SourceEmail("W", "b@s", main=True), SourceEmail("H", "h@h")
        )
        == "b@s"
    )
    assert staff_email(SourceEmail("W", "a@s"), SourceEmail("W", "c@s", primary=True)) == "c@s"
    assert staff_email(SourceEmail("H", "h@h"), SourceEmail("H", "p@h", primary=True)) == "p@h"
    assert staff_email() is None


def test_every_source_type_maps_to_its_model_type() -> None:
    cases = [
        (
            Dataset.YEARS,
            SourceAcademicYear("ay", "2024/25", "2024-09-01", "2025-08-31"),
            AcademicYear,
        ),
        (Dataset.YEARS, SourceYearGroup("y7", "Year 7"), YearGroup),
        (Dataset.STAFF, SourceStaff("s1", forename="A"), StaffMember),
        (Dataset.STUDENTS, student(), Student),
        (Dataset.GROUPS, SourceGroup("g", "7A", GroupKind.REGISTRATION), Group),
        (
            Dataset.GROUPS,
            SourceMembership("g", GroupKind.CLASS, "1001", Role.STUDENT, "20240901"),
            Membership,
        ),
        (Dataset.PHOTOS, SourcePhoto("1001", Role.STUDENT, JPEG), Photo),
        (Dataset.EXAM_RESULTS, SourceExamResult("1001", "S24", "GCSE", "Maths", "7"), ExamResult),
    ]
    for dataset, record, model_type in cases:
        model, errors = N.normalise(dataset, record)
        assert type(model) is model_type and errors == [], record


@pytest.mark.parametrize(
    ("dataset", "record", "code"),
    [
        (Dataset.STUDENTS, SourceStudent(" "), "MB1001"),
        (Dataset.YEARS, SourceAcademicYear("ay", "2024/25", "2024-09-01", "soon"), "MB3002"),
        (Dataset.YEARS, SourceAcademicYear("ay", "2024/25", None, "2025-08-31"), "MB3002"),
        (Dataset.YEARS, SourceAcademicYear("ay", " ", "2024-09-01", "2025-08-31"), "MB2003"),
        (Dataset.YEARS, SourceYearGroup("yg", "Sixth form"), "MB4030"),
        (Dataset.GROUPS, SourceGroup("g", "  ", GroupKind.HOUSE), "MB2003"),
        (Dataset.PHOTOS, SourcePhoto("1", Role.STAFF, b"not an image"), "MB6001"),
        (Dataset.EXAM_RESULTS, SourceExamResult("1", "S24", "GCSE", "Maths", None), "MB2003"),
    ],
)
def test_unbuildable_records_give_none_and_the_reason(
    dataset: Dataset, record: object, code: str
) -> None:
    model, errors = N.normalise(dataset, record)  # type: ignore[arg-type]
    assert model is None
    assert [e.code for e in errors] == [code]
    assert all(e.severity is Severity.ERROR for e in errors)


def test_year_group_code_taken_from_name_when_code_missing() -> None:
    model, _ = N.normalise(Dataset.YEARS, SourceYearGroup("yg", "Year  10", None, "2024-09-01"))
    assert model == YearGroup("yg", "Year 10", "10", date(2024, 9, 1), None)


# -- properties -----------------------------------------------------------------------

raw_text = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(["  Ann ", "Zoe\u0308", "", "O'Neil"])
)
raw_dates = st.one_of(
    st.none(),
    st.dates(date(1990, 1, 1), date(2030, 1, 1)),
    st.dates(date(1990, 1, 1), date(2030, 1, 1)).map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates(date(1990, 1, 1), date(2030, 1, 1)).map(lambda d: {"date": f"{d} 00:00:00.000000"}),
    st.text(max_size=12),
)
raw_flags = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["Yes", "No", "T", "F", "1", "0"]),
    st.text(max_size=4),
)
types = st.sampled_from(["H", "M", "W", "h", "Home", "Work", "X", None])
addresses = st.builds(
    SourceAddress,
    types,
    st.lists(raw_text.map(lambda t: t or ""), max_size=3).map(tuple),
    raw_text,
    raw_dates,
)
phones = st.builds(SourceTelephone, types, st.text(max_size=8), st.booleans(), st.booleans())
emails = st.builds(
    SourceEmail,
    types,
    st.sampled_from(["a@x.org", "b@y.org", " c@z.org ", "", "  "]),
    st.booleans(),
    st.booleans(),
)
students = st.builds(
    SourceStudent,
    mis_id=st.text(max_size=6),
    admission_number=raw_text,
    upn=raw_text,
    legal_forename=raw_text,
    legal_surname=raw_text,
    preferred_forename=raw_text,
    gender=st.one_of(raw_text, st.sampled_from(["M", "f", "Male", "X"])),
    date_of_birth=raw_dates,
    ethnicity=raw_text,
    eal=raw_flags,
    fsm=raw_flags,
    sen=st.lists(
        st.builds(SourceSen, st.one_of(raw_text, st.sampled_from(["K", "EHC Plan"])), raw_dates),
        max_size=2,
    ).map(tuple),
    year_group=st.one_of(raw_text, st.sampled_from(["Year 7", "Y11", "Reception"])),
    admission_date=raw_dates,
    addresses=st.lists(addresses, max_size=4).map(tuple),
    telephones=st.lists(phones, max_size=4).map(tuple),
    emails=st.lists(emails, max_size=4).map(tuple),
    directory_username=raw_text,
)
policies = st.sampled_from(list(UsernamePolicy))


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(students, policies)
def test_students_never_crash_and_are_idempotent(
    record: SourceStudent, policy: UsernamePolicy
) -> None:
    n = Normaliser(NormaliseSettings(policy), mis="wonde")
    model, errors = n.normalise(S, record)
    for error in errors:
        assert error.dataset == "students" and error.code.startswith("MB") and error.message
    if model is None:
        assert [e.code for e in errors] == ["MB1001"]
        return
    assert isinstance(model, Student)
    again, new_errors = n.normalise(S, to_source(model))
    assert again == model
    assert new_errors == []


staff = st.builds(
    SourceStaff,
    mis_id=st.text(min_size=1, max_size=6),
    title=raw_text,
    forename=raw_text,
    surname=raw_text,
    gender=raw_text,
    emails=st.lists(emails, max_size=4).map(tuple),
    staff_code=raw_text,
)


@given(staff)
def test_staff_are_idempotent(record: SourceStaff) -> None:
    model, _ = N.normalise(Dataset.STAFF, record)
    if model is not None:
        assert N.normalise(Dataset.STAFF, to_source(model)) == (model, [])


others = st.one_of(
    st.builds(
        SourceGroup,
        st.text(max_size=4),
        raw_text,
        st.sampled_from(list(GroupKind)),
        raw_text,
        raw_text,
    ),
    st.builds(
        SourceMembership,
        st.text(max_size=4),
        st.sampled_from(list(GroupKind)),
        st.text(max_size=4),
        st.sampled_from(list(Role)),
        raw_dates,
        raw_dates,
    ),
    st.builds(SourceAcademicYear, st.text(max_size=4), raw_text, raw_dates, raw_dates),
    st.builds(SourceYearGroup, st.text(max_size=4), raw_text, raw_text, raw_dates, raw_dates),
    st.builds(
        SourcePhoto,
        st.text(max_size=4),
        st.sampled_from(list(Role)),
        st.sampled_from([JPEG, b"", b"\x89PNG\r\n\x1a\n.."]),
    ),
    st.builds(
        SourceExamResult, st.text(max_size=4), raw_text, raw_text, raw_text, raw_text, raw_dates
    ),
)


@given(others)
def test_other_records_never_crash_and_are_idempotent(record: object) -> None:
    model, errors = N.normalise(Dataset.GROUPS, record)  # type: ignore[arg-type]
    if model is None:
        assert errors and all(e.severity is Severity.ERROR for e in errors)
        return
    assert N.normalise(Dataset.GROUPS, to_source(model)) == (model, [])
