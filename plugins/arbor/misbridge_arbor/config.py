"""The plugin's settings and credentials, and how they become a client configuration."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from misbridge.errors import ConfigurationError
from misbridge.hooktypes import CredentialField, ExtractContext, SettingField
from misbridge.http import http_settings

__all__ = ["CREDENTIALS", "PARTNER_HOST", "SETTINGS", "ArborConfig"]

PARTNER_HOST = "https://api.uk.arbor.sc"

#: Arbor throttles after a few hundred requests and says not for how long (sis-sdk-php
#: PR #60; a third-party client sleeps 10, 20, 30 s): back off longer than the shared
#: defaults, up to about two minutes in all, before a request is given up.
HTTP_DEFAULTS = {"http_attempts": "8", "http_wait_initial": "1", "http_wait_max": "60"}
HTTP_SETTINGS = http_settings(attempts=8, wait_initial=1, wait_max=60)

CREDENTIALS = (
    CredentialField("username", "Arbor application username", env="MISBRIDGE_ARBOR_USERNAME"),
    CredentialField(
        "api_key", "Arbor API key (or application password)", env="MISBRIDGE_ARBOR_API_KEY"
    ),
)

SETTINGS = (
    SettingField(
        "subdomain",
        "the school's Arbor subdomain: 'some-school' for https://some-school.uk.arbor.sc",
        env="MISBRIDGE_ARBOR_SUBDOMAIN",
    ),
    SettingField(
        "application_id",
        "the application id; requests then go to the common partner host "
        f"{PARTNER_HOST} with the x-mis-application-id header",
        env="MISBRIDGE_ARBOR_APPLICATION_ID",
    ),
    SettingField("base_url", "an explicit API root (sandbox, staging); overrides 'subdomain'"),
    SettingField(
        "read_mode",
        "'graphql' (bulk reads, default) or 'rest' (one request per object, as the "
        "official SDK does)",
        default="graphql",
    ),
    SettingField(
        "incremental",
        "auto: read students and staff from the change log since the last applied read; "
        "off: full reads unless --since is given",
        default="off",
        choices=("auto", "off"),
    ),
    SettingField("page_size", "GraphQL rows per page (Arbor's maximum is not published)", "500"),
    SettingField("rest_page_size", "REST listing rows per page", "100"),
    SettingField("rest_first_page", "the number of the first REST page (not published)", "1"),
    *HTTP_SETTINGS,
    SettingField(
        "include_former_staff",
        "yes: also extract staff Arbor still holds whose employment has ended",
        "no",
    ),
    SettingField(
        "staff_current_from",
        "what decides that a member of staff is current: 'contracts' (StaffContract "
        "dates, as the official SDK's examples do) or 'staff_fields' (Staff."
        "isActiveInSchool and Staff.leavingDate, as public GraphQL clients read them)",
        "contracts",
    ),
    SettingField(
        "eligibility_codes",
        "Arbor eligibility codes of the student flags, as flag=CODE pairs",
        "fsm=FSM,eal=EAL,pupil_premium=PP,service_child=SC",
    ),
    SettingField(
        "class_subject_path",
        "where a teaching group's subject name is, as a dotted field path ('' = not read)",
        "subject.subjectName",
    ),
    SettingField(
        "exam_subject_path",
        "dotted path from a QualificationResult to the subject name",
        "candidateEntry.qualificationLearningUnit.displayName",
    ),
    SettingField(
        "exam_qualification_path",
        "dotted path from a QualificationResult to the qualification (GCSE, GCE A level)",
        "candidateEntry.qualificationAward.displayName",
    ),
    SettingField(
        "exam_series_path",
        "dotted path from a QualificationResult to the exam series name",
        "candidateEntry.qualificationAvailabilityInstance.displayName",
    ),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}
STAFF_CURRENT_FROM = ("contracts", "staff_fields")
_FLAGS = frozenset({"fsm", "eal", "pupil_premium", "service_child"})


def _int(context: ExtractContext, name: str, low: int = 0) -> int:
    raw = context.setting(name, _DEFAULTS[name]) or ""
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low:
        raise ConfigurationError(
            f"arbor: the setting {name!r} must be a whole number of at least {low}",
            mis="arbor",
            setting=name,
        )
    return value


def _codes(raw: str) -> Mapping[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        flag, sep, code = item.partition("=")
        if not sep or flag.strip() not in _FLAGS or not code.strip():
            raise ConfigurationError(
                "arbor: eligibility_codes must be flag=CODE pairs with flags among "
                f"{', '.join(sorted(_FLAGS))} (got an entry {item[:40]!r})",
                mis="arbor",
                setting="eligibility_codes",
            )
        pairs[flag.strip()] = code.strip()
    return pairs


@frozen
class ArborConfig:
    base_url: str
    application_id: str | None
    read_mode: str
    page_size: int
    rest_page_size: int
    rest_first_page: int
    eligibility_codes: Mapping[str, str]
    class_subject_path: str
    exam_subject_path: str
    exam_qualification_path: str
    exam_series_path: str
    include_former_staff: bool = False
    staff_current_from: str = "contracts"
    incremental: bool = False

    @classmethod
    def from_context(cls, context: ExtractContext) -> ArborConfig:
        app = context.setting("application_id")
        base = context.setting("base_url")
        school = context.setting("subdomain")
        if base is None:
            if app:
                base = PARTNER_HOST
            elif school:
                if not school.replace("-", "").isalnum():
                    raise ConfigurationError(
                        "arbor: 'subdomain' is the school's subdomain only, e.g. 'some-school'",
                        mis="arbor",
                        setting="subdomain",
                    )
                base = f"https://{school}.uk.arbor.sc"
            else:
                raise ConfigurationError(
                    "arbor: say which Arbor to reach: --subdomain NAME, or "
                    "--application-id ID for the partner host, or --base-url URL",
                    mis="arbor",
                    setting="subdomain",
                )
        mode = context.setting("read_mode", "graphql") or "graphql"
        if mode not in ("graphql", "rest"):
            raise ConfigurationError(
                "arbor: read_mode is 'graphql' or 'rest'", mis="arbor", setting="read_mode"
            )

        former = (context.setting("include_former_staff", "no") or "no").strip().lower()
        if former not in ("yes", "no", "true", "false"):
            raise ConfigurationError(
                "arbor: include_former_staff is 'yes' or 'no'",
                mis="arbor",
                setting="include_former_staff",
            )
        current_from = context.setting("staff_current_from", "contracts") or "contracts"
        if current_from not in STAFF_CURRENT_FROM:
            raise ConfigurationError(
                "arbor: staff_current_from is 'contracts' or 'staff_fields'",
                mis="arbor",
                setting="staff_current_from",
            )

        def path(name: str) -> str:
            value = context.settings.get(name)
            return _DEFAULTS[name] or "" if value is None else value

        return cls(
            base_url=base.rstrip("/"),
            application_id=app,
            read_mode=mode,
            incremental=(context.setting("incremental", "off") or "off").strip().lower() == "auto",
            page_size=_int(context, "page_size", 1),
            rest_page_size=_int(context, "rest_page_size", 1),
            rest_first_page=_int(context, "rest_first_page", 0),
            eligibility_codes=_codes(path("eligibility_codes")),
            class_subject_path=path("class_subject_path"),
            exam_subject_path=path("exam_subject_path"),
            exam_qualification_path=path("exam_qualification_path"),
            exam_series_path=path("exam_series_path"),
            include_former_staff=former in ("yes", "true"),
            staff_current_from=current_from,
        )
