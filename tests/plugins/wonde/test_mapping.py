"""The mapping from Wonde objects to source records, and its inverse in the simulator."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import ConfigurationError
from misbridge.model import GroupKind, Role
from misbridge.source import SourceEmail, SourceTelephone
from misbridge_wonde import mapping
from misbridge_wonde.schema import WireNames, carbon
from misbridge_wonde.simulator.contacts import contact_details, split_address_lines

NAMES = WireNames()

line = (
    st.text(
        alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" -'"),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
numbered = st.builds(lambda n, s: f"{n} {s}", st.integers(1, 999), line)


@given(st.lists(st.one_of(line, numbered), max_size=4))
def test_address_lines_survive_wonde_fields(lines: list[str]) -> None:
    assert mapping.address_lines(split_address_lines(lines)) == tuple(lines)


@given(st.lists(line, min_size=5, max_size=8))
def test_more_lines_than_fields_lose_no_text(lines: list[str]) -> None:
    joined = " ".join(mapping.address_lines(split_address_lines(lines)))
    for part in lines:
        assert part in joined


def test_a_numbered_street_is_split_as_wonde_does() -> None:
    fields = split_address_lines(["Rose Cottage", "12 High Street", "Ashby", "Thornbury"])
    assert fields["house_name"] == "Rose Cottage"
    assert (fields["house_number"], fields["street"]) == ("12", "High Street")
    assert (fields["district"], fields["town"]) == ("Ashby", "Thornbury")


def test_contacts_keep_every_slot_and_mark_the_primary() -> None:
    details = {
        "emails": {
            "email": "general@example.com",
            "primary": "kid@example.com",
            "home": "kid@example.com",
            "work": "w@example.org",
        },
        "phones": {"phone": "1", "primary": "2", "home": "2", "work": None, "mobile": "3"},
        "addresses": {
            "home": {"house_number": "4", "street": "Elm Road", "town": "Leeds", "postcode": "LS1"},
            "work": None,
            "postal": {"street": "PO Box 7", "postcode": "LS2"},
        },
    }
    student = mapping.student({"id": "A1", "contact_details": {"data": details}}, NAMES)
    assert student.emails == (
        SourceEmail("H", "kid@example.com", primary=True),
        SourceEmail("W", "w@example.org"),
        SourceEmail(None, "general@example.com"),
    )
    assert student.telephones == (
        SourceTelephone("H", "2", primary=True),
        SourceTelephone("M", "3"),
        SourceTelephone(None, "1"),
    )
    assert [(a.type, a.lines, a.postcode) for a in student.addresses] == [
        ("H", ("4 Elm Road", "Leeds"), "LS1"),
        ("P", ("PO Box 7",), "LS2"),
    ]


def test_a_primary_email_of_another_type_is_still_given() -> None:
    details = {"emails": {"primary": "p@example.com", "home": "h@example.com"}}
    student = mapping.student({"id": "A1", "contact_details": {"data": details}}, NAMES)
    assert SourceEmail(None, "p@example.com", primary=True) in student.emails


def test_simulated_contacts_read_back_as_the_same_choice() -> None:
    emails = (
        SourceEmail("H", "first@example.com"),
        SourceEmail("H", "primary@example.com", primary=True),
        SourceEmail("W", "work@example.org", main=True),
    )
    phones = (SourceTelephone("M", "07700 900001"), SourceTelephone("M", "07700 900002", main=True))
    wire = contact_details("A1", emails, phones, (), NAMES)
    student = mapping.student({"id": "A1", "contact_details": {"data": wire}}, NAMES)
    assert SourceEmail("H", "primary@example.com", primary=True) in student.emails
    assert SourceTelephone("M", "07700 900002") in student.telephones


def test_out_of_scope_values_are_missing_not_errors() -> None:
    obj = {
        "id": 17,  # Wonde ids are strings; a number is read as text
        "forename": "Ann",
        "date_of_birth": None,
        "contact_details": None,  # no scope
        "education_details": {"data": None},
        "extended_details": {"data": {"sen_status": "K", "free_school_meals": "true"}},
        "year": {"data": {"code": "R"}},
    }
    student = mapping.student(obj, NAMES)
    assert student.mis_id == "17"
    assert student.date_of_birth is None and student.emails == () and student.upn is None
    assert student.year_group == "R"
    assert student.fsm == "true"  # raw: the normaliser reads flags
    assert [s.code for s in student.sen] == ["K"]


def test_dates_stay_raw_carbon_objects() -> None:
    born = carbon(__import__("datetime").date(2012, 3, 4))
    student = mapping.student({"id": "A1", "date_of_birth": born}, NAMES)
    assert student.date_of_birth == born


def test_year_group_falls_back_to_the_nc_year() -> None:
    obj = {"id": "A1", "education_details": {"data": {"current_nc_year": "9"}}}
    assert mapping.student(obj, NAMES).year_group == "9"


def test_group_types_come_from_the_wire_names() -> None:
    names = WireNames.from_json('{"registration_type": "FORM", "house_type": "house"}')
    kinds = names.group_kinds()
    assert mapping.group_kind({"type": "form"}, kinds) is GroupKind.REGISTRATION
    assert mapping.group_kind({"type": "HOUSE"}, kinds) is GroupKind.HOUSE
    assert mapping.group_kind({"type": "REGISTRATION"}, kinds) is None
    person = {
        "id": "S1",
        "groups": {"data": [{"id": "G1", "type": "FORM"}, {"id": "G2", "type": "DEPT"}]},
        "classes": {"data": [{"id": "C1"}]},
    }
    got = list(mapping.memberships(person, Role.STAFF, kinds))
    assert [(m.group_mis_id, m.group_kind) for m in got] == [
        ("G1", GroupKind.REGISTRATION),
        ("C1", GroupKind.CLASS),
    ]


def test_class_subject_is_the_included_name() -> None:
    with_subject = {"id": "C1", "name": "7x/Ma1", "subject": {"data": {"name": "Mathematics"}}}
    assert mapping.class_group(with_subject).subject == "Mathematics"
    assert mapping.class_group({"id": "C1", "name": "7x/Ma1", "subject": "SUBJ1"}).subject is None


@pytest.mark.parametrize(
    "raw",
    [
        '{"eal": 5}',
        '{"no_such_name": "x"}',
        '{"staff_code": "teacher_number"}',  # now the setting staff_code_field
        "[1, 2]",
        "{not json",
    ],
)
def test_bad_wire_names_are_configuration_errors(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="wire_names"):
        WireNames.from_json(raw)


def test_wire_names_change_both_sides() -> None:
    from misbridge.testing.school import sample_school
    from misbridge_wonde.simulator import simulate

    overrides = {"eal": "english_as_additional_language_status", "phones": "telephones"}
    sim = simulate(sample_school(students=14, staff=2), wire_names=overrides)
    details = sim.rendered.details["extended_details"]
    assert all("english_as_additional_language_status" in d for d in details.values())
    contact = next(iter(sim.rendered.details["student_contact_details"].values()))
    assert "telephones" in contact and "phones" not in contact


@pytest.mark.parametrize("encode", ["base64", "data-uri"])
def test_photo_content_in_either_encoding(encode: str) -> None:
    data = b"\x89PNG\r\n\x1a\nrest"
    content = base64.b64encode(data).decode()
    if encode == "data-uri":
        content = "data:image/png;base64," + content
    found = mapping.photo({"id": "A1", "photo": {"data": {"content": content}}}, Role.STUDENT)
    assert found is not None and found.data == data


def test_an_unreadable_photo_gives_no_bytes_rather_than_failing() -> None:
    found = mapping.photo({"id": "A1", "photo": {"data": {"content": "%%%"}}}, Role.STUDENT)
    assert found is not None and found.data == b""
    assert mapping.photo({"id": "A1", "photo": {"data": None}}, Role.STUDENT) is None
    assert mapping.photo({"id": "A1", "photo": None}, Role.STUDENT) is None


def test_former_staff_are_known_by_employment_details() -> None:
    assert mapping.is_current_employee({"employment_details": {"data": {"current": True}}})
    assert mapping.is_current_employee({})  # not said: kept
    assert not mapping.is_current_employee({"employment_details": {"data": {"current": False}}})
