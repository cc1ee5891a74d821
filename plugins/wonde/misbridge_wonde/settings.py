"""The Wonde plugin's settings and credentials, read and checked once per run."""

from __future__ import annotations

import re
from collections.abc import Mapping

from attrs import frozen

from misbridge.errors import ConfigurationError
from misbridge.hooktypes import CredentialField, ExtractContext, SettingField
from misbridge.http import http_settings
from misbridge_wonde.schema import DEFAULT_BASE_URL, DEFAULT_STAFF_CODE_FIELD, FieldPath, WireNames

__all__ = ["CLASS_STAFF_SOURCES", "CREDENTIALS", "PAGING_MODES", "SETTINGS", "WondeSettings"]

PAGING_MODES = ("parallel", "cursor", "follow-next")
#: Where a class's staff are read besides each employee's own ``classes``.
CLASS_STAFF_SOURCES = ("classes", "students")
_SCHOOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

CREDENTIALS = (
    CredentialField(
        "token",
        "Wonde API token (from the Wonde dashboard; it is not shown as you type)",
        env="MISBRIDGE_WONDE_TOKEN",
    ),
)

SETTINGS = (
    SettingField(
        "school_id",
        "Wonde school id (e.g. A1930499544); 'misbridge wonde schools' lists them",
        required=True,
        env="MISBRIDGE_WONDE_SCHOOL_ID",
    ),
    SettingField("base_url", "Wonde API base URL", default=DEFAULT_BASE_URL),
    SettingField(
        "paging",
        "parallel: count, then fetch pages at once; cursor: stable cursor pages one by one; "
        "follow-next: one page at a time, as the official clients do",
        default="parallel",
    ),
    SettingField(
        "per_page",
        "records per page (Wonde clients report 200 as the maximum); 'default' sends none",
        default="200",
    ),
    SettingField(
        "wire_names",
        'JSON overrides for field names Wonde does not document, e.g. {"eal": "eal_status"}',
    ),
    SettingField(
        "staff_code_field",
        "where an employee's staff code is: a field ('initials') or include.field "
        "('employment_details.teacher_number'); a staff member without it is reported",
        default=DEFAULT_STAFF_CODE_FIELD,
    ),
    SettingField(
        "class_staff",
        "where a class's teachers are read besides each employee's classes: 'classes' (the "
        "class list's employees, every class once) or 'students' (nested in the student "
        "listing, include=classes.employees, for an account whose class list lacks them)",
        default="classes",
    ),
    SettingField(
        "incremental",
        "auto: ask only for changes since the last successful extract; off: full extracts",
        default="off",
    ),
    SettingField(
        "include_former_staff",
        "yes: also extract employees whose employment Wonde marks as ended",
        default="no",
    ),
    # The shared HTTP client's limits (misbridge.http.HttpPolicy).
    *http_settings(),
)


def _yes(value: str | None, name: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("yes", "y", "true", "1", "on"):
        return True
    if text in ("no", "n", "false", "0", "off", ""):
        return False
    raise ConfigurationError(f"wonde: the setting {name!r} must be yes or no", setting=name)


@frozen
class WondeSettings:
    school_id: str
    base_url: str
    paging: str
    per_page: int | None
    names: WireNames
    staff_code_field: FieldPath
    class_staff: str
    incremental: bool
    include_former_staff: bool

    @classmethod
    def from_context(cls, context: ExtractContext) -> WondeSettings:
        return cls.from_mapping(context.settings, school_id=context.require_setting("school_id"))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str], school_id: str) -> WondeSettings:
        school_id = school_id.strip()
        if not _SCHOOL_ID.match(school_id):
            raise ConfigurationError(
                "wonde: the school id may hold only letters, digits, '-' and '_' "
                "(e.g. A1930499544); 'misbridge wonde schools' lists the ids",
                setting="school_id",
            )
        paging = (raw.get("paging") or "parallel").strip().lower()
        if paging not in PAGING_MODES:
            raise ConfigurationError(
                f"wonde: the setting 'paging' must be one of {', '.join(PAGING_MODES)}",
                setting="paging",
            )
        per_page_raw = (raw.get("per_page") or "200").strip().lower()
        per_page: int | None = None
        if per_page_raw != "default":
            if not per_page_raw.isdigit() or int(per_page_raw) < 1:
                raise ConfigurationError(
                    "wonde: the setting 'per_page' must be a positive whole number or 'default'",
                    setting="per_page",
                )
            per_page = int(per_page_raw)
        class_staff = (raw.get("class_staff") or "classes").strip().lower()
        if class_staff not in CLASS_STAFF_SOURCES:
            raise ConfigurationError(
                "wonde: the setting 'class_staff' must be classes or students",
                setting="class_staff",
            )
        incremental = (raw.get("incremental") or "off").strip().lower()
        if incremental not in ("auto", "off"):
            raise ConfigurationError(
                "wonde: the setting 'incremental' must be auto or off", setting="incremental"
            )
        return cls(
            school_id=school_id,
            base_url=(raw.get("base_url") or DEFAULT_BASE_URL).strip(),
            paging=paging,
            per_page=per_page,
            names=WireNames.from_json(raw.get("wire_names")),
            staff_code_field=FieldPath.parse(
                raw.get("staff_code_field") or DEFAULT_STAFF_CODE_FIELD
            ),
            class_staff=class_staff,
            incremental=incremental == "auto",
            include_former_staff=_yes(raw.get("include_former_staff"), "include_former_staff"),
        )
