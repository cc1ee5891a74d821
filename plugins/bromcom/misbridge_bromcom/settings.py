"""The Bromcom plugin's settings and credentials, read once per extract."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from attrs import frozen

from misbridge.plugin import (
    ConfigurationError,
    CredentialField,
    ExtractContext,
    SettingField,
    http_settings,
)
from misbridge_bromcom.exam_types import DEFAULT_EXAM_TYPES, ExamTypes
from misbridge_bromcom.filters import DEFAULT_MAX_TERMS
from misbridge_bromcom.schema import Mode, Vocabulary, parse_overrides

if TYPE_CHECKING:
    import httpx

    from misbridge.plugin import HttpPolicy

__all__ = [
    "CREDENTIALS",
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PHOTO_URL",
    "DEFAULT_SOAP_URL",
    "SETTINGS",
    "BromcomConfig",
    "academic_year_start",
]

DEFAULT_BASE_URL = "https://api.bromcomcloud.com"
DEFAULT_PHOTO_URL = (
    "https://cloudmis.bromcom.com/Nucleus/Framework/Components/Controls/ImageDisplay.ashx"
)
DEFAULT_SOAP_URL = (
    "https://cloudmis.bromcom.com/Nucleus/WebServices/ThirdParty/TPReadonlyDataService.asmx"
)
DEFAULT_PAGE_SIZE = 100_000
DEFAULT_AUTH_FAULT = r"(?i)user ?name|password|log ?in|authenticat|credential"
DEFAULT_DENIED_FAULT = r"(?i)permission|not (enabled|granted|allowed|permitted)|access (is )?denied"

_ENV = "MISBRIDGE_BROMCOM_"

SETTINGS: tuple[SettingField, ...] = (
    SettingField(
        "school_id", "Bromcom school id (a number).", required=True, env=_ENV + "SCHOOL_ID"
    ),
    SettingField(
        "mode",
        "partner: Partner Data API 2.0 (application id and secret); soap: the legacy "
        "Third Party Read Only Data Service (a per-school Bromcom user and password).",
        default="partner",
        env=_ENV + "MODE",
    ),
    SettingField(
        "application_id",
        "Partner API application id (not secret; the secret is a credential).",
        env=_ENV + "APPLICATION_ID",
    ),
    SettingField("base_url", "Partner API base URL.", default=DEFAULT_BASE_URL),
    SettingField("photo_url", "Photo endpoint (ImageDisplay.ashx) URL.", default=DEFAULT_PHOTO_URL),
    SettingField(
        "soap_url",
        "Legacy service URL; the host varies by hosting provider (e.g. bromcom.scomis.org).",
        default=DEFAULT_SOAP_URL,
    ),
    SettingField(
        "page_size",
        "Rows per Partner API page; a full page means another one follows.",
        default=str(DEFAULT_PAGE_SIZE),
        kind=int,
        minimum=1,
    ),
    SettingField(
        "max_filter_terms",
        "Most values one filter may list; longer lists are split into batches.",
        default=str(DEFAULT_MAX_TERMS),
        kind=int,
        minimum=1,
    ),
    SettingField(
        "leavers_since",
        "Also read pupils and memberships that ended on or after this date (yyyy-mm-dd); "
        "default: the start of the current academic year.",
    ),
    SettingField(
        "exam_types",
        "Assessment types that are exam results, comma-separated; matched ignoring case, "
        "punctuation and spacing ('A Level' matches 'GCE A-Level'). Other types are "
        "counted in the log, never returned.",
        default=DEFAULT_EXAM_TYPES,
    ),
    SettingField(
        "student_join_key",
        "Which id of a pupil CollectionAssociates and the person-detail entities name: "
        "person_id (the pupil's person id, as public Partner API clients read it) or "
        "student_id.",
        default="person_id",
        choices=("person_id", "student_id"),
    ),
    SettingField(
        "student_email_type",
        "Contact type (H personal, W work) of the one email StudentFlatView carries.",
        default="H",
    ),
    SettingField(
        "legacy_contacts",
        "Legacy mode: also read pupils' addresses, telephones, emails and SEN history "
        "(PersonAddresses, PersonTelephones, Emails, SENStudents): yes or no.",
        default="yes",
        kind=bool,
    ),
    SettingField(
        "wire_names",
        "Overrides for entity and field names Bromcom does not document, as key=name pairs "
        "separated by commas (see docs/plugins/bromcom.md).",
    ),
    *http_settings(),
    SettingField(
        "soap_auth_fault",
        "Regex: a SOAP fault meaning wrong credentials.",
        default=DEFAULT_AUTH_FAULT,
    ),
    SettingField(
        "soap_denied_fault",
        "Regex: a SOAP fault meaning an entity is not ticked.",
        default=DEFAULT_DENIED_FAULT,
    ),
)

CREDENTIALS: tuple[CredentialField, ...] = (
    CredentialField(
        "application_secret",
        "Bromcom Partner API application secret",
        _ENV + "APPLICATION_SECRET",
        required=False,
    ),
    CredentialField(
        "username", "Bromcom user name (third-party MIS user)", _ENV + "USERNAME", required=False
    ),
    CredentialField("password", "Bromcom password", _ENV + "PASSWORD", required=False),
)

#: Credentials each mode needs.
MODE_CREDENTIALS: dict[Mode, tuple[str, ...]] = {
    Mode.PARTNER: ("application_secret",),
    Mode.SOAP: ("username", "password"),
}


def academic_year_start(today: date) -> date:
    """1 September of the academic year ``today`` falls in."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _url(context: ExtractContext, name: str, default: str) -> httpx.URL:
    # httpx is imported when an extract reads the settings, not when the plugin loads.
    import httpx

    url = httpx.URL(context.setting(name, default) or default)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"bromcom: the setting {name} must be an http(s) URL", mis="bromcom", setting=name
        )
    return url


def _policy(context: ExtractContext) -> HttpPolicy:
    from misbridge.plugin import HttpPolicy

    return HttpPolicy.from_context(context)


@frozen
class BromcomConfig:
    mode: Mode
    school_id: str
    vocab: Vocabulary
    base_url: httpx.URL
    photo_url: httpx.URL
    soap_url: httpx.URL
    page_size: int
    max_terms: int
    since: date
    exam_types: ExamTypes
    student_join_key: str
    student_email_type: str
    auth_fault: str
    denied_fault: str
    legacy_contacts: bool
    policy: HttpPolicy

    @classmethod
    def from_context(cls, context: ExtractContext, today: date | None = None) -> BromcomConfig:
        raw_mode = (context.setting("mode", "partner") or "partner").strip().lower()
        try:
            mode = Mode(raw_mode)
        except ValueError:
            raise ConfigurationError(
                f"bromcom: mode must be 'partner' or 'soap', not {raw_mode!r}",
                mis="bromcom",
                setting="mode",
            ) from None
        school_id = context.require_setting("school_id").strip()
        if not school_id.isdigit():
            raise ConfigurationError(
                "bromcom: school_id must be the number Bromcom gives the school",
                mis="bromcom",
                setting="school_id",
            )
        since_text = context.setting("leavers_since")
        try:
            since = (
                date.fromisoformat(since_text)
                if since_text
                else academic_year_start(today or date.today())
            )
        except ValueError:
            raise ConfigurationError(
                "bromcom: leavers_since must be a date written yyyy-mm-dd",
                mis="bromcom",
                setting="leavers_since",
            ) from None
        exam_types = ExamTypes((context.setting("exam_types", DEFAULT_EXAM_TYPES) or "").split(","))
        if not exam_types:
            raise ConfigurationError(
                "bromcom: exam_types must name at least one assessment type",
                mis="bromcom",
                setting="exam_types",
            )
        # Typed, bounded and checked once by the core (context.values).
        values = context.values
        return cls(
            mode=mode,
            school_id=school_id,
            vocab=Vocabulary(mode, parse_overrides(context.setting("wire_names"))),
            base_url=_url(context, "base_url", DEFAULT_BASE_URL),
            photo_url=_url(context, "photo_url", DEFAULT_PHOTO_URL),
            soap_url=_url(context, "soap_url", DEFAULT_SOAP_URL),
            page_size=values["page_size"],
            max_terms=values["max_filter_terms"],
            since=since,
            exam_types=exam_types,
            student_join_key=values["student_join_key"],
            student_email_type=(context.setting("student_email_type", "H") or "H").strip(),
            auth_fault=context.setting("soap_auth_fault", DEFAULT_AUTH_FAULT) or DEFAULT_AUTH_FAULT,
            denied_fault=context.setting("soap_denied_fault", DEFAULT_DENIED_FAULT)
            or DEFAULT_DENIED_FAULT,
            legacy_contacts=values["legacy_contacts"],
            policy=_policy(context),
        )
