"""Wonde objects -> source records. Mapping only: no business rule is applied here.

Values stay raw (Carbon date objects, the vendor's flags and codes); every contact
Wonde gives is emitted with its type and whether it is the one Wonde names ``primary``;
the shared normaliser chooses. A value that is ``null`` because the app lacks a scope
is simply missing (Wonde's documentation, "Scopes": "without having an active scope for
a property's value will be null").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from misbridge.plugin import (
    GroupKind,
    RawDate,
    RawFlag,
    Role,
    SourceAddress,
    SourceEmail,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)
from misbridge_wonde.schema import FieldPath, WireNames

__all__ = [
    "address_lines",
    "carbon_moment",
    "class_group",
    "class_staff",
    "decode_photo",
    "employee",
    "group",
    "group_kind",
    "is_restored",
    "memberships",
    "photo",
    "student",
    "year_group",
]

Json = Mapping[str, Any]

#: Wonde address fields in reading order; the simulator splits lines into the same order.
ADDRESS_FIELDS = ("apartment", "house_name", "street", "district", "town", "county", "country")
EMAIL_SLOTS = (("home", "H"), ("work", "W"))
PHONE_SLOTS = (("home", "H"), ("work", "W"), ("mobile", "M"))
ADDRESS_SLOTS = (("home", "H"), ("work", "W"), ("postal", "P"))


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None  # an object where text belongs: nothing we can read


def _id(obj: Json) -> str:
    return _text(obj.get("id")) or ""


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # JSON objects are dicts: the exact type check first, the Mapping ABC's (slow) second.
    return type(value) is dict or isinstance(value, Mapping)


def _date(value: Any) -> RawDate:
    if value is None or isinstance(value, str) or _is_mapping(value):
        return value
    return str(value)  # the normaliser reports what it cannot read


def _flag(value: Any) -> RawFlag:
    if value is None or isinstance(value, str | bool | int):
        return value
    return str(value)


# Records come from json.loads, so objects are plain dicts: checking for dict (not the
# Mapping ABC) keeps the per-membership cost down on large schools.
def _one(obj: Json, name: str) -> Json:
    """An included single object (``{"data": {...}}``); empty when absent or out of scope."""
    wrapped = obj.get(name)
    if type(wrapped) is dict:
        inner = wrapped.get("data")
        if type(inner) is dict:
            return inner
    return {}


def _many(obj: Json, name: str) -> list[Json]:
    wrapped = obj.get(name)
    if type(wrapped) is dict:
        items = wrapped.get("data")
        if type(items) is list:
            return [item for item in items if type(item) is dict]
    return []


def address_lines(address: Json) -> tuple[str, ...]:
    lines: list[str] = []
    for name in ADDRESS_FIELDS:
        value = _text(address.get(name))
        if name == "street":
            number = _text(address.get("house_number"))
            value = " ".join(v for v in (number, value) if v) or None
        if value and value.strip():
            lines.append(value)
    return tuple(lines)


def _contacts(
    details: Json, names: WireNames
) -> tuple[tuple[SourceAddress, ...], tuple[SourceTelephone, ...], tuple[SourceEmail, ...]]:
    emails_obj = details.get(names.emails)
    emails_obj = emails_obj if _is_mapping(emails_obj) else {}
    primary = _text(emails_obj.get("primary"))
    emails = [
        SourceEmail(kind, value, primary=value == primary)
        for slot, kind in EMAIL_SLOTS
        if (value := _text(emails_obj.get(slot)))
    ]
    seen = {e.address for e in emails}
    # The primary (and the general "email") may be of a type with no slot of its own.
    for slot, is_primary in (("primary", True), ("email", False)):
        value = _text(emails_obj.get(slot))
        if value and value not in seen:
            emails.append(SourceEmail(None, value, primary=is_primary))
            seen.add(value)

    phones_obj = details.get(names.phones)
    phones_obj = phones_obj if _is_mapping(phones_obj) else {}
    main_phone = _text(phones_obj.get("primary"))
    phones = [
        SourceTelephone(kind, value, primary=value == main_phone)
        for slot, kind in PHONE_SLOTS
        if (value := _text(phones_obj.get(slot)))
    ]
    numbers = {p.number for p in phones}
    for slot, is_primary in (("primary", True), ("phone", False)):
        value = _text(phones_obj.get(slot))
        if value and value not in numbers:
            phones.append(SourceTelephone(None, value, primary=is_primary))
            numbers.add(value)

    addresses_obj = details.get(names.addresses)
    addresses_obj = addresses_obj if _is_mapping(addresses_obj) else {}
    addresses = []
    for slot, kind in ADDRESS_SLOTS:
        wire = addresses_obj.get(slot)
        if _is_mapping(wire):
            lines = address_lines(wire)
            postcode = _text(wire.get("postcode"))
            if lines or postcode:
                addresses.append(SourceAddress(kind, lines, postcode))
    return tuple(addresses), tuple(phones), tuple(emails)


def student(obj: Json, names: WireNames) -> SourceStudent:
    education = _one(obj, "education_details")
    extended = _one(obj, "extended_details")
    year = _one(obj, "year")
    sen = _text(extended.get(names.sen))
    addresses, phones, emails = _contacts(_one(obj, "contact_details"), names)
    return SourceStudent(
        mis_id=_id(obj),
        admission_number=_text(education.get(names.admission_number)),
        upn=_text(education.get(names.upn)),
        legal_forename=_text(obj.get("legal_forename")),
        legal_surname=_text(obj.get("legal_surname")),
        preferred_forename=_text(obj.get("forename")),
        preferred_surname=_text(obj.get("surname")),
        gender=_text(obj.get("gender")),
        date_of_birth=_date(obj.get("date_of_birth")),
        ethnicity=_text(extended.get(names.ethnicity)),
        eal=_flag(extended.get(names.eal)),
        fsm=_flag(extended.get(names.fsm)),
        pupil_premium=_flag(extended.get(names.pupil_premium)),
        service_child=_flag(extended.get(names.service_child)),
        sen=(SourceSen(code=sen),) if sen and sen.strip() else (),
        year_group=_text(year.get("code")) or _text(education.get(names.nc_year)),
        admission_date=_date(education.get(names.admission_date)),
        leaving_date=_date(education.get(names.leaving_date)),
        addresses=addresses,
        telephones=phones,
        emails=emails,
    )


def is_current_employee(obj: Json) -> bool:
    """False only when Wonde says outright that the employment has ended."""
    return _one(obj, "employment_details").get("current") is not False


def employee(obj: Json, names: WireNames, code_at: FieldPath) -> tuple[SourceStaff, bool]:
    """The staff member, and whether the answer held the place ``code_at`` names (a
    code the MIS left empty is found; a missing key or include is not)."""
    _, _, emails = _contacts(_one(obj, "contact_details"), names)
    found, code = code_at.read(obj)
    staff = SourceStaff(
        mis_id=_id(obj),
        title=_text(obj.get("title")),
        forename=_text(obj.get("forename")),
        surname=_text(obj.get("surname")),
        gender=_text(obj.get("gender")),
        emails=emails,
        staff_code=_text(code),
    )
    return staff, found


def group_kind(obj: Json, kinds: Mapping[str, GroupKind]) -> GroupKind | None:
    """Our kind for a Wonde group, or None for a type that is not a roster group."""
    return kinds.get((_text(obj.get("type")) or "").strip().upper())


def year_group(obj: Json) -> SourceYearGroup:
    return SourceYearGroup(
        mis_id=_id(obj), name=_text(obj.get("name")), code=_text(obj.get("code"))
    )


def group(obj: Json, kind: GroupKind) -> SourceGroup:
    return SourceGroup(
        mis_id=_id(obj), name=_text(obj.get("name")), kind=kind, code=_text(obj.get("code"))
    )


def class_group(obj: Json) -> SourceGroup:
    subject = obj.get("subject")
    name = None
    if _is_mapping(subject):  # include=subject: {"data": {...}}
        name = _text(_one(obj, "subject").get("name"))
    return SourceGroup(
        mis_id=_id(obj),
        name=_text(obj.get("name")),
        kind=GroupKind.CLASS,
        subject=name,
        code=_text(obj.get("code")),
    )


def class_staff(klass: Json) -> list[SourceMembership]:
    """A class's staff, from its ``employees`` include (the class's side of the link)."""
    class_id = _id(klass)
    return [
        SourceMembership(class_id, GroupKind.CLASS, _id(teacher), Role.STAFF)
        for teacher in _many(klass, "employees")
    ]


def memberships(person: Json, role: Role, kinds: Mapping[str, GroupKind]) -> list[SourceMembership]:
    """A person's groups and classes (Wonde gives no membership dates), then the staff
    of those classes where they come nested (``include=classes.employees``): a class's
    teachers may be given only that way."""
    # Fifteen a pupil: the helpers' common cases (a text id, no nested staff) are
    # written out here, the helpers called only for the rest.
    person_id = _id(person)
    found = []
    for item in _many(person, "groups"):
        kind = group_kind(item, kinds)
        if kind is not None:
            found.append(SourceMembership(_id(item), kind, person_id, role))
    for item in _many(person, "classes"):
        class_id = item.get("id")
        if type(class_id) is not str:
            class_id = _id(item)
        found.append(SourceMembership(class_id, GroupKind.CLASS, person_id, role))
        if item.get("employees") is not None:
            found += class_staff(item)
    return found


def carbon_moment(value: Any) -> datetime | None:
    """A Carbon object (or its ``date`` text) as an aware datetime; None if unreadable."""
    zone: Any = UTC
    if isinstance(value, Mapping):
        name = value.get("timezone")
        if isinstance(name, str) and name and name.upper() != "UTC":
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                return None
        value = value.get("date")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def is_restored(row: Json) -> bool:
    """Whether a ``/deletions`` row was undone: its ``restored_at`` is set, and not
    before its ``deleted_at`` (a record deleted again after a restore is deleted)."""
    restored = row.get("restored_at")
    if restored in (None, "", {}):
        return False
    when, deleted = carbon_moment(restored), carbon_moment(row.get("deleted_at"))
    return when is None or deleted is None or when >= deleted


def decode_photo(content: str) -> bytes:
    """Photo ``content``: base64, or a ``data:`` URI (no public source says which).

    Undecodable content gives no bytes: the normaliser then reports the photo as
    unreadable for that person rather than the whole dataset failing.
    """
    if content.startswith("data:"):
        _, _, content = content.partition(",")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return b""


def photo(person: Json, role: Role) -> SourcePhoto | None:
    content = _text(_one(person, "photo").get("content"))
    if not content:
        return None
    return SourcePhoto(person_mis_id=_id(person), role=role, data=decode_photo(content))
