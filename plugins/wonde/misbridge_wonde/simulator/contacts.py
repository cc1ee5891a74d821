"""Contacts as Wonde's ``contact_details`` carry them: one value per type.

Live-data clients read ``emails{email, primary, home, work}``, ``phones{phone, primary,
home, work, mobile}`` and ``addresses{home, work, postal}`` (answers captured from the
live API, e.g. the spec fixtures of rmcsharry/ep-richard; the php-client readme names the
include). A school's MIS may hold several of each; which one Wonde keeps is inferred:
the one marked Primary, else Main, else the first; for addresses the latest start date.
The Main flag and start dates have no place on the wire.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeAlias

from misbridge.plugin import SourceAddress, SourceEmail, SourceTelephone
from misbridge_wonde.schema import WireNames

__all__ = ["contact_details", "split_address_lines"]

Json: TypeAlias = dict[str, Any]

_NUMBERED = re.compile(r"^(\d+[A-Za-z]?)\s+(.+)$")
#: Where the lines after the street go, by how many there are (locality, then town).
_SLOTS: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("town",),
    2: ("district", "town"),
    3: ("district", "town", "county"),
}


def _choose(items: Sequence[Any]) -> Any:
    for item in items:
        if item.primary:
            return item
    for item in items:
        if item.main:
            return item
    return items[0] if items else None


def split_address_lines(lines: Sequence[str]) -> Json:
    """Address lines into Wonde's named fields; ``misbridge_wonde.mapping`` joins them
    back in the same order, so the pair is lossless for up to five lines."""
    rest = [line for line in lines if line and line.strip()]
    out: Json = dict.fromkeys(
        ("house_number", "house_name", "apartment", "street", "district", "town", "county")
    )
    if rest and not _NUMBERED.match(rest[0]) and len(rest) > 1 and _NUMBERED.match(rest[1]):
        out["house_name"] = rest.pop(0)
    if rest:
        numbered = _NUMBERED.match(rest[0])
        if numbered:
            out["house_number"], out["street"] = numbered.groups()
        else:
            out["street"] = rest[0]
        rest.pop(0)
    if len(rest) > 3:  # more lines than Wonde has fields: keep them all, joined
        rest = [", ".join(rest[:-2]), *rest[-2:]]
    for name, line in zip(_SLOTS[len(rest)], rest, strict=True):
        out[name] = line
    return out


def _address(address: SourceAddress | None) -> Json | None:
    if address is None:
        return None
    return {**split_address_lines(address.lines), "country": None, "postcode": address.postcode}


def _latest(addresses: Sequence[SourceAddress]) -> SourceAddress | None:
    best: SourceAddress | None = None
    best_start: date | None = None
    for address in addresses:
        start = address.start if isinstance(address.start, date) else None
        if best is None or (start is not None and (best_start is None or start > best_start)):
            best, best_start = address, start
    return best


def contact_details(
    owner: str,
    emails: Sequence[SourceEmail],
    phones: Sequence[SourceTelephone],
    addresses: Sequence[SourceAddress],
    names: WireNames,
) -> Json:
    def by_type(items: Iterable[Any], kind: str) -> list[Any]:
        return [i for i in items if (i.type or "").upper() == kind]

    def value(item: Any, attr: str) -> str | None:
        return getattr(item, attr) if item is not None else None

    primary_email = next((e for e in emails if e.primary), None)
    primary_phone = next((p for p in phones if p.primary), None)
    other_addresses = [a for a in addresses if (a.type or "").upper() not in ("H", "W")]
    return {
        "id": f"CD{owner}",
        "salutation": None,
        "greeting": None,
        names.emails: {
            "email": value(primary_email or (emails[0] if emails else None), "address"),
            "primary": value(primary_email, "address"),
            "home": value(_choose(by_type(emails, "H")), "address"),
            "work": value(_choose(by_type(emails, "W")), "address"),
        },
        names.phones: {
            "phone": value(primary_phone or (phones[0] if phones else None), "number"),
            "primary": value(primary_phone, "number"),
            "home": value(_choose(by_type(phones, "H")), "number"),
            "work": value(_choose(by_type(phones, "W")), "number"),
            "mobile": value(_choose(by_type(phones, "M")), "number"),
        },
        names.addresses: {
            "home": _address(_latest(by_type(addresses, "H"))),
            "work": _address(_latest(by_type(addresses, "W"))),
            "postal": _address(other_addresses[0] if other_addresses else None),
        },
    }
