"""The simulator's options (the wire facts no public source settles) and its deletion rows.

Every option defaults to the best-supported behaviour of the live API; the others stay
selectable, so that the plugin is tested against each reading of an uncertain fact.
``docs/plugins/wonde.md`` gives the public source of each default.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from attrs import define, field, frozen, validators

from misbridge_wonde.schema import DEFAULT_STAFF_CODE_FIELD, FieldPath, carbon

__all__ = ["GENDER_STYLES", "PER_PAGE_TYPES", "DeletionRow", "SimOptions"]

#: ``documented``: ``MALE``/``FEMALE`` as Wonde's answers carry them; ``short``: the MIS
#: codes as given (``M``/``F``), as this simulator once sent them.
GENDER_STYLES = ("documented", "short")
#: How ``meta.pagination.per_page`` is typed: an integer, or the string of Wonde's own
#: documentation example (``"per_page": "2"``) and of answers captured in 2016.
PER_PAGE_TYPES = ("int", "string")


def _frozenset(values: Collection[str]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


def _staff_code_field(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    path = FieldPath.parse(value, "staff_code_field")
    if path.include not in (None, "employment_details"):
        raise ValueError(
            "the simulator serves a staff code at the top of the employee or in "
            f"employment_details, not in {path.include!r}"
        )
    return str(path)


@frozen
class SimOptions:
    """What the simulated Wonde account does where the public sources are silent or split.

    - ``default_per_page`` / ``max_per_page``: page sizes (a third-party client says 200
      is the maximum; Wonde's documented default is 50);
    - ``deny_status``: how a list the app has no scope for is refused;
    - ``hidden``: property scopes the app lacks (``"students.date_of_birth"``): those
      values come back ``null``, as the documentation's "Scopes" section says;
    - ``region_domain``: the school's regional host; other hosts get no data;
    - ``photo_encoding``: ``"base64"`` or ``"data-uri"`` for photo ``content``;
    - ``gender_style``: see :data:`GENDER_STYLES`;
    - ``per_page_type``: see :data:`PER_PAGE_TYPES`;
    - ``unpaginated_up_to``: a list of at most this many records that fits on the page
      asked for is answered with no ``meta`` at all (no pagination object), as Wonde does
      at 50 rows or fewer; None always sends it;
    - ``staff_code_field``: where the staff code is served (``FieldPath`` text), or None
      for nowhere: ``employment_details`` then holds only its documented keys;
    - ``employee_class_links``: False when the MIS links teachers to classes only from
      the class's side: an employee's ``classes`` include is then empty, and a class's
      staff are given only as ``classes.employees``.
    """

    default_per_page: int = field(default=50, validator=validators.ge(1))
    max_per_page: int = field(default=200, validator=validators.ge(1))
    deny_status: int = 403
    hidden: frozenset[str] = field(default=frozenset(), converter=_frozenset)
    region_domain: str | None = None
    photo_encoding: str = field(default="base64", validator=validators.in_(("base64", "data-uri")))
    gender_style: str = field(default="documented", validator=validators.in_(GENDER_STYLES))
    per_page_type: str = field(default="int", validator=validators.in_(PER_PAGE_TYPES))
    unpaginated_up_to: int | None = 50
    staff_code_field: str | None = field(
        default=DEFAULT_STAFF_CODE_FIELD, converter=_staff_code_field
    )
    employee_class_links: bool = True

    def per_page(self, size: int) -> int | str:
        return size if self.per_page_type == "int" else str(size)


@define
class DeletionRow:
    """One row of ``/deletions``: a record removed from the MIS, and, once it was brought
    back, when (``restored_at``). Public live-data models read ``id``, ``mis_id`` and
    ``deleted_at`` (a Carbon object); ``type`` and ``restored_at`` complete the row."""

    seq: int
    id: str
    type: str
    mis_id: str
    deleted_at: datetime
    restored_at: datetime | None = None

    @property
    def changed(self) -> datetime:
        """What ``updated_after``/``updated_before`` compare: its latest change."""
        return max(self.deleted_at, self.restored_at or self.deleted_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "mis_id": self.mis_id,
            "deleted_at": carbon(self.deleted_at),
            "restored_at": carbon(self.restored_at),
        }
