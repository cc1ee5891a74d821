"""Wonde wire names the public sources leave uncertain, as one overridable table.

mis-apis.md section 1 verifies the envelopes, the person fields, the include names and
``year.data.code``; it marks the keys inside ``education_details``/``extended_details``,
the staff code and the group ``type`` strings as [Unknown]. Those names are not baked
into either side: the plugin (setting ``wire_names``) and the simulator (option
``wire_names``) both read them from a :class:`WireNames`, whose defaults are the names
third-party code that talks to the live API uses (cited per field below). A school whose
Wonde account differs fixes it with a setting, not a code change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from attrs import evolve, fields_dict, frozen

from misbridge.errors import ConfigurationError
from misbridge.model import GroupKind

__all__ = [
    "DEFAULT_BASE_URL",
    "WONDE_HOSTS",
    "WireNames",
    "carbon",
]

DEFAULT_BASE_URL = "https://api.wonde.com/v1.0/"

#: Wonde's API hosts (mis-apis.md 1.1 "Regional Domains" and the php-client edge branch).
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


@frozen
class WireNames:
    """Key names inside Wonde records that no official source confirms.

    Every attribute can be overridden with ``{"<attribute>": "<wire name>"}`` given as
    JSON in the ``wire_names`` setting (plugin) or option (simulator).
    """

    # education_details.data.* : a Wonde-fed project's upsert (admission_number, upn,
    # admission_date, leaving_date); current_nc_year is [V-3rd] in mis-apis.md 1.3.
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
    # employment_details.data.* : [Unknown]; the staff code lives with employment facts.
    staff_code: str = "staff_code"
    # contact_details.data.*: live-data clients read "emails" and "phones" objects.
    phones: str = "phones"
    emails: str = "emails"
    addresses: str = "addresses"
    # Group "type" values: [Unknown] in mis-apis.md 1.3; these are the docs' examples.
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
    """A date as Wonde sends it: a PHP Carbon object (mis-apis.md 1.3, "Date encoding")."""
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
