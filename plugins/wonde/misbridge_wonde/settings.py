"""The Wonde plugin's settings and credentials, read and checked once per run."""

from __future__ import annotations

import re

from attrs import frozen

from misbridge.plugin import (
    ConfigurationError,
    CredentialField,
    Dataset,
    ExtractContext,
    SettingField,
    http_settings,
)
from misbridge_wonde.schema import DEFAULT_BASE_URL, DEFAULT_STAFF_CODE_FIELD, FieldPath, WireNames

__all__ = [
    "CLASS_STAFF_SOURCES",
    "CREDENTIALS",
    "DATASETS",
    "PAGING_MODES",
    "SETTINGS",
    "WondeSettings",
]

# No exam results: Wonde's assessment API is a beta whose result shape no public source
# documents (wondeltd/php-client's readme calls it "likely to change"); see
# docs/plugins/wonde.md.
DATASETS = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.PHOTOS)

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
        choices=PAGING_MODES,
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
        choices=CLASS_STAFF_SOURCES,
    ),
    SettingField(
        "incremental",
        "auto: ask only for changes since the last successful extract; off: full extracts",
        default="off",
        choices=("auto", "off"),
    ),
    SettingField(
        "include_former_staff",
        "yes: also extract employees whose employment Wonde marks as ended",
        default="no",
        kind=bool,
    ),
    # The shared HTTP client's limits (misbridge.http.HttpPolicy).
    *http_settings(),
)


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
        """The run's settings, already parsed to their declared types by the core
        (``context.values``); what no declaration can say is checked here."""
        values = context.values
        school_id = context.require_setting("school_id").strip()
        if not _SCHOOL_ID.match(school_id):
            raise ConfigurationError(
                "wonde: the school id may hold only letters, digits, '-' and '_' "
                "(e.g. A1930499544); 'misbridge wonde schools' lists the ids",
                setting="school_id",
            )
        per_page_raw = str(values.get("per_page", "200")).strip().lower()
        per_page: int | None = None
        if per_page_raw != "default":
            if not per_page_raw.isdigit() or int(per_page_raw) < 1:
                raise ConfigurationError(
                    "wonde: the setting 'per_page' must be a positive whole number or 'default'",
                    setting="per_page",
                )
            per_page = int(per_page_raw)
        return cls(
            school_id=school_id,
            base_url=str(values.get("base_url", DEFAULT_BASE_URL)).strip(),
            paging=values.get("paging", "parallel"),
            per_page=per_page,
            names=WireNames.from_json(values.get("wire_names")),
            staff_code_field=FieldPath.parse(
                values.get("staff_code_field") or DEFAULT_STAFF_CODE_FIELD
            ),
            class_staff=values.get("class_staff", "classes"),
            incremental=values.get("incremental", "off") == "auto",
            include_former_staff=bool(values.get("include_former_staff", False)),
        )
