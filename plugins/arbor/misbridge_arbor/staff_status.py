"""Which members of staff are former staff: Arbor keeps ex-staff, and says who is current.

Two readings, chosen with the ``staff_current_from`` setting:

- ``contracts`` (default): the official PHP SDK's examples decide it from staff contract
  dates (``examples/staff-current.php``: a ``StaffContract`` with ``startDate`` before
  now and no ``endDate``; ``examples/staff-not-current.php``: ``endDate`` before now).
  A member of staff is *former* when they have contracts and every one has ended before
  today. Staff with no contract at all are kept: nothing says they left, and a school
  that keeps no contracts in Arbor must not lose its whole staff list.
- ``staff_fields``: ``Staff.isActiveInSchool`` and ``Staff.leavingDate``, the fields
  public GraphQL integrations read (a leaver is not active, or has a leaving date that
  has passed).

An unreadable date never makes anyone former: a record is only dropped on evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from misbridge.plugin import DateParseError, parse_date
from misbridge_arbor.reader import ref_id
from misbridge_arbor.selection import Spec

__all__ = ["CONTRACT_SPEC", "STAFF_STATUS_SPEC", "former_from_contracts", "former_from_fields"]

CONTRACT_SPEC: Spec = {"staff": {"id": None}, "startDate": None, "endDate": None}
STAFF_STATUS_SPEC: Spec = {"id": None, "isActiveInSchool": None, "leavingDate": None}


def _ended(value: Any, today: date) -> bool:
    try:
        day = parse_date(value)
    except DateParseError:
        return False
    return day is not None and day < today


def former_from_contracts(rows: Iterable[Mapping[str, Any]], today: date) -> set[str]:
    """Ids of staff whose every contract ended before ``today``."""
    ended: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        staff = ref_id(row.get("staff"))
        if staff is not None:
            ended[staff].append(_ended(row.get("endDate"), today))
    return {staff for staff, flags in ended.items() if all(flags)}


def former_from_fields(rows: Iterable[Mapping[str, Any]], today: date) -> set[str]:
    """Ids of staff Arbor marks as not active in school, or whose leaving date passed."""
    return {
        str(row["id"])
        for row in rows
        if row.get("isActiveInSchool") is False or _ended(row.get("leavingDate"), today)
    }
