"""Wonde wire names the public sources leave uncertain, as overridable settings.

Wonde's documentation (docs.wonde.com/docs/api/sync) and its official clients
(wondeltd/php-client, ruby-client, dotnet-client) fix the envelopes, the person fields and
the include names; third-party code written against the live API fixes ``year.data.code``.
The keys inside ``education_details``/``extended_details`` and the group ``type`` strings
are documented nowhere public. Those names are not baked into either side: the plugin
(setting ``wire_names``) and the simulator (option ``wire_names``) both read them from a
:class:`WireNames`, whose defaults are the names third-party code that talks to the live
API uses (cited per field below). Where an employee's staff code is read is a
:class:`FieldPath` (setting ``staff_code_field``). A school whose Wonde account differs
fixes it with a setting, not a code change. ``docs/plugins/wonde.md`` lists every wire
fact with its public source and whether it is verified, inferred or unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from attrs import evolve, fields_dict, frozen

from misbridge.plugin import ConfigurationError, GroupKind

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_STAFF_CODE_FIELD",
    "WONDE_HOSTS",
    "FieldPath",
    "WireNames",
    "carbon",
]

DEFAULT_BASE_URL = "https://api.wonde.com/v1.0/"

#: Wonde's API hosts (docs.wonde.com/docs/api/sync "Regional Domains"; the edge host from
#: the ``edge`` branch of wondeltd/php-client).
#: A school's ``region.domain`` must be one of these (or the configured base URL's host)
#: before the token is sent there.
WONDE_HOSTS = frozenset(
    {
        "api.wonde.com",
        "api-ap-southeast-2.wonde.com",
        "api-af-south-1.wonde.com",
        "api.edge.wonde.com",
    }
)


#: Where the staff code is, unless the ``staff_code_field`` setting says otherwise: two
#: public C# models of live answers (dataconversion-ie/WondePOC
#: ``Models/EmploymentDetails.cs``, "shape confirmed against live Wonde API response";
#: michelgomez84/WondeApi ``WondeApiModel/EmploymentDetails.cs``) both read it as
#: ``employment_details.data.staff_code``. Wonde's own documentation of that object lists
#: only ``current, teaching_staff, employment_start_date, employment_end_date, role_text``.
DEFAULT_STAFF_CODE_FIELD = "employment_details.staff_code"

_PATH = re.compile(r"^(?:([a-z][a-z0-9_]*)\.)?([a-z][a-z0-9_]*)$")


@frozen
class FieldPath:
    """Where a value sits in a Wonde person: a key of the person itself (``"initials"``)
    or a key of one of its included objects (``"employment_details.staff_code"``, read
    from ``employment_details.data.staff_code`` with ``include=employment_details``)."""

    include: str | None
    key: str

    @classmethod
    def parse(cls, text: str | None, setting: str = "staff_code_field") -> FieldPath:
        raw = (text or "").strip()
        found = _PATH.match(raw)
        if found is None:
            raise ConfigurationError(
                f"wonde: the setting {setting!r} must be a field name (e.g. 'initials') or an "
                "include and a field joined by a dot (e.g. 'employment_details.staff_code'), "
                "in lower case",
                mis="wonde",
                setting=setting,
            )
        return cls(found.group(1), found.group(2))

    def __str__(self) -> str:
        return f"{self.include}.{self.key}" if self.include else self.key

    def read(self, person: Mapping[str, Any]) -> tuple[bool, Any]:
        """``(found, value)``: found is False when the answer holds no such place (the
        include is missing or null, or its object has no such key), which is not the
        same as a value the MIS left empty."""
        holder: Any = person
        if self.include is not None:
            wrapped = person.get(self.include)
            holder = wrapped.get("data") if isinstance(wrapped, Mapping) else None
        if not isinstance(holder, Mapping) or self.key not in holder:
            return False, None
        return True, holder[self.key]


@frozen
class WireNames:
    """Key names inside Wonde records that no official source confirms.

    Every attribute can be overridden with ``{"<attribute>": "<wire name>"}`` given as
    JSON in the ``wire_names`` setting (plugin) or option (simulator).
    """

    # education_details.data.* : a Wonde-fed project's upsert (admission_number, upn,
    # admission_date, leaving_date); current_nc_year from a public R client of the API.
    admission_number: str = "admission_number"
    upn: str = "upn"
    admission_date: str = "admission_date"
    leaving_date: str = "leaving_date"
    nc_year: str = "current_nc_year"
    # extended_details.data.* : a Laravel migration and a Power Query mapping of live data.
    ethnicity: str = "ethnicity"
    eal: str = "english_as_additional_language"
    fsm: str = "free_school_meals"
    pupil_premium: str = "premium_pupil_indicator"
    service_child: str = "service_children_indicator"
    sen: str = "sen_status"
    # contact_details.data.*: live-data clients read "emails" and "phones" objects.
    phones: str = "phones"
    emails: str = "emails"
    addresses: str = "addresses"
    # Group "type" values: no public source gives them; these are the common spellings.
    registration_type: str = "REGISTRATION"
    house_type: str = "HOUSE"
    year_type: str = "YEAR"

    @classmethod
    def from_json(cls, raw: str | Mapping[str, Any] | None) -> WireNames:
        """Defaults overridden by a JSON object (a setting) or a mapping (an option)."""
        if raw in (None, ""):
            return cls()
        try:
            overrides = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        except ValueError:
            raise ConfigurationError(
                "wonde: the setting 'wire_names' is not valid JSON; give an object such as "
                '{"eal": "english_as_additional_language_status"}',
                mis="wonde",
                setting="wire_names",
            ) from None
        known = fields_dict(cls)
        if isinstance(overrides, dict) and "staff_code" in overrides:
            raise ConfigurationError(
                "wonde: where the staff code is read is now the setting 'staff_code_field' "
                "(e.g. employment_details.teacher_number), not a 'wire_names' entry",
                mis="wonde",
                setting="wire_names",
            )
        if not isinstance(overrides, dict):
            raise ConfigurationError(
                "wonde: the setting 'wire_names' must be a JSON object of name: wire name",
                mis="wonde",
                setting="wire_names",
            )
        bad = sorted(k for k, v in overrides.items() if k not in known or not isinstance(v, str))
        if bad:
            raise ConfigurationError(
                f"wonde: 'wire_names' has unknown names or non-text values: {', '.join(bad)}; "
                f"known names: {', '.join(known)}",
                mis="wonde",
                setting="wire_names",
            )
        return evolve(cls(), **overrides)

    def group_type(self, kind: GroupKind) -> str:
        return {
            GroupKind.REGISTRATION: self.registration_type,
            GroupKind.HOUSE: self.house_type,
            GroupKind.YEAR: self.year_type,
        }[kind]

    def group_kinds(self) -> dict[str, GroupKind]:
        """Wonde group type (case-insensitive key) -> our group kind."""
        return {
            self.registration_type.upper(): GroupKind.REGISTRATION,
            self.house_type.upper(): GroupKind.HOUSE,
            self.year_type.upper(): GroupKind.YEAR,
        }


def carbon(value: date | datetime | None) -> dict[str, Any] | None:
    """A date as Wonde sends it: a PHP Carbon object, ``{"date": "2022-09-05
    14:21:15.000000", "timezone_type": 3, "timezone": "UTC"}`` (live answers echoed by
    third-party integrations, e.g. the spec fixtures of rmcsharry/ep-richard)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return {
        "date": value.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "timezone_type": 3,
        "timezone": "UTC",
    }
