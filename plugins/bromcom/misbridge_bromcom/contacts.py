"""Legacy mode: pupils' addresses, telephones, emails and SEN history, from the
``PersonAddresses``, ``PersonTelephones``, ``Emails`` and ``SENStudents`` entities.

Every row is kept, in Bromcom's order, with its type and Primary/Main flags as sent:
which one is *the* home address or mobile is the shared normaliser's decision. The
entities are read for the pupils of one batch at a time (``PersonID in (...)``, at most
20 ids, the legacy limit), so no other person's details are ever fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from attrs import evolve

from misbridge.plugin import (
    FlagParseError,
    SourceAddress,
    SourceEmail,
    SourceSen,
    SourceStudent,
    SourceTelephone,
    parse_flag,
)
from misbridge_bromcom.mapping import raw, text

__all__ = ["DETAIL_ENTITIES", "Details", "attach", "collect"]

log = structlog.get_logger()

Row = Mapping[str, Any]
Fields = Mapping[str, str]

#: The detail entities, and the field that names the pupil in each.
DETAIL_ENTITIES: dict[str, str] = {
    "addresses": "person_id",
    "telephones": "person_id",
    "emails": "person_id",
    "sen": "student_id",
}

#: ``entity key -> pupil id -> rows``
Details = dict[str, dict[str, list[Row]]]


def collect(details: Details, key: str, rows: Iterable[Row], fields: Mapping[str, Fields]) -> None:
    """Add one entity's rows to ``details``, by pupil, keeping Bromcom's order."""
    id_field = fields[key][DETAIL_ENTITIES[key]]
    by_person = details.setdefault(key, {})
    for row in rows:
        person = text(row, id_field)
        if person is not None:
            by_person.setdefault(person.strip(), []).append(row)


def _flag(row: Row, name: str, person: str) -> bool:
    try:
        return bool(parse_flag(raw(row, name)))
    except FlagParseError:
        # Not recognisably "yes": not treated as Primary/Main, and said so.
        log.warning("bromcom.unreadable_flag", person=person, field=name)
        return False


def _addresses(rows: list[Row], f: Fields) -> tuple[SourceAddress, ...]:
    return tuple(
        SourceAddress(
            type=text(r, f["type"]),
            lines=tuple(
                line
                for line in (text(r, f[n]) for n in ("line1", "line2", "line3", "town"))
                if line is not None
            ),
            postcode=text(r, f["postcode"]),
            start=raw(r, f["start"]),
        )
        for r in rows
    )


def _telephones(rows: list[Row], f: Fields, person: str) -> tuple[SourceTelephone, ...]:
    return tuple(
        SourceTelephone(
            type=text(r, f["type"]),
            number=number,
            primary=_flag(r, f["primary"], person),
            main=_flag(r, f["main"], person),
        )
        for r in rows
        if (number := text(r, f["number"])) is not None
    )


def _emails(rows: list[Row], f: Fields, person: str) -> tuple[SourceEmail, ...]:
    return tuple(
        SourceEmail(
            type=text(r, f["type"]),
            address=address,
            primary=_flag(r, f["primary"], person),
            main=_flag(r, f["main"], person),
        )
        for r in rows
        if (address := text(r, f["address"])) is not None
    )


def _sen(rows: list[Row], f: Fields) -> tuple[SourceSen, ...]:
    return tuple(
        SourceSen(code=text(r, f["provision"]), start=raw(r, f["start"]), end=raw(r, f["end"]))
        for r in rows
    )


def attach(
    student: SourceStudent, details: Details, fields: Mapping[str, Fields], person: str
) -> SourceStudent:
    """``student`` with every contact and SEN row the detail entities hold for them;
    ``person`` is the id the person-keyed entities name them by (their person id)."""

    def rows(key: str) -> list[Row]:
        owner = person if DETAIL_ENTITIES[key] == "person_id" else student.mis_id
        return details.get(key, {}).get(owner, [])

    return evolve(
        student,
        addresses=_addresses(rows("addresses"), fields["addresses"]),
        telephones=_telephones(rows("telephones"), fields["telephones"], student.mis_id),
        emails=_emails(rows("emails"), fields["emails"], student.mis_id),
        sen=_sen(rows("sen"), fields["sen"]),
    )
