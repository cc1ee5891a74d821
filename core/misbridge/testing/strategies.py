"""Hypothesis strategies for schools, source records and model records.

For plugin authors' property tests and the core's own. Names draw on the letters UK
names really use (accents, apostrophes, hyphens, inner spaces), not arbitrary Unicode:
every vendor format must carry them, and a conformance failure on them is a real bug.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from misbridge.model import (
    AcademicYear,
    Address,
    Assessment,
    EmailPreference,
    ExamResult,
    Group,
    GroupKind,
    Membership,
    Photo,
    Role,
    SenStatus,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.source import (
    SourceAddress,
    SourceEmail,
    SourceSchool,
    SourceSen,
    SourceStudent,
    SourceTelephone,
)
from misbridge.testing.school import sample_school

__all__ = [
    "contact_types",
    "model_records",
    "names",
    "schools",
    "source_addresses",
    "source_emails",
    "source_students",
    "source_telephones",
]

NAME_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZáéíóúàèëïöüçñßøåÁÉÓÖŁłŚśŻż"

names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(NAME_LETTERS[26:52]),
    st.text(alphabet=NAME_LETTERS + "'’- ", max_size=18),
).map(lambda s: s.strip(" -'’") or "A")

school_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
contact_types = st.sampled_from(["H", "M", "W", "O", None])
mis_ids = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=10)

source_addresses = st.builds(
    SourceAddress,
    type=contact_types,
    lines=st.lists(names, min_size=1, max_size=3).map(tuple),
    postcode=st.from_regex(r"\A[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}\Z"),
    start=st.none() | school_dates,
)
source_telephones = st.builds(
    SourceTelephone,
    type=contact_types,
    number=st.from_regex(r"\A0[1-9][0-9]{3} [0-9]{6}\Z"),
    primary=st.booleans(),
    main=st.booleans(),
)
source_emails = st.builds(
    SourceEmail,
    type=contact_types,
    address=st.emails(),
    primary=st.booleans(),
    main=st.booleans(),
)
source_students = st.builds(
    SourceStudent,
    mis_id=mis_ids,
    admission_number=st.none() | st.from_regex(r"\A[0-9]{4,6}\Z"),
    legal_forename=st.none() | names,
    legal_surname=st.none() | names,
    preferred_forename=st.none() | names,
    gender=st.sampled_from(["M", "F", "Male", "female", "X", None]),
    date_of_birth=st.none() | school_dates,
    ethnicity=st.sampled_from(["WBRI", "WENG", "AIND", "REFU", "NOBT", None]),
    eal=st.none() | st.booleans() | st.sampled_from(["Yes", "No", "True", "False"]),
    fsm=st.none() | st.booleans() | st.sampled_from(["Yes", "No"]),
    sen=st.lists(
        st.builds(SourceSen, code=st.sampled_from(["N", "K", "E"]), start=school_dates),
        max_size=2,
    ).map(tuple),
    year_group=st.sampled_from(["7", "Year  8", "Year 9", "12", "R", None]),
    addresses=st.lists(source_addresses, max_size=4).map(tuple),
    telephones=st.lists(source_telephones, max_size=4).map(tuple),
    emails=st.lists(source_emails, max_size=4).map(tuple),
)


@st.composite
def schools(draw: st.DrawFn, max_students: int = 60) -> SourceSchool:
    """A generated school: another seed and size of the sample school."""
    return sample_school(
        seed=draw(st.integers(0, 2**20)),
        students=draw(st.integers(14, max_students)),
        staff=draw(st.integers(2, 12)),
    )


_text = st.text(max_size=20)
_opt_text = st.none() | _text
model_records = st.one_of(
    st.builds(AcademicYear, mis_id=_text, name=_text, start=school_dates, end=school_dates),
    st.builds(YearGroup, mis_id=_text, name=_text, code=_text),
    st.builds(
        Student,
        mis_id=_text,
        legal_forename=_opt_text,
        date_of_birth=st.none() | school_dates,
        fsm=st.none() | st.booleans(),
        sen=st.lists(st.builds(SenStatus, code=st.sampled_from("NKE"))).map(tuple),
        home_address=st.none() | st.builds(Address, lines=st.lists(_text).map(tuple)),
        email_preference=st.sampled_from(EmailPreference),
    ),
    st.builds(StaffMember, mis_id=_text, title=_opt_text, work_email=_opt_text),
    st.builds(Group, mis_id=_text, name=_text, kind=st.sampled_from(GroupKind)),
    st.builds(
        Membership,
        group_mis_id=_text,
        group_kind=st.sampled_from(GroupKind),
        person_mis_id=_text,
        role=st.sampled_from(Role),
        start=st.none() | school_dates,
    ),
    st.builds(
        Photo,
        person_mis_id=_text,
        role=st.sampled_from(Role),
        media_type=_text,
        data=st.binary(max_size=64),
    ),
    st.builds(
        Assessment,
        student_mis_id=_text,
        aspect=_text,
        result=_text,
        grade_type=st.none() | st.sampled_from(["working-at", "target", "Effort"]),
        subject=_opt_text,
        term=_opt_text,
        result_date=st.none() | school_dates,
    ),
    st.builds(
        ExamResult,
        student_mis_id=_text,
        series=_text,
        qualification=_text,
        subject=_text,
        grade=_text,
        result_date=st.none() | school_dates,
    ),
)
