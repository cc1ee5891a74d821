"""The plugin's settings and credentials, and how they become a client configuration."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from misbridge.plugin import (
    ConfigurationError,
    CredentialField,
    ExtractContext,
    SettingField,
    http_settings,
)

__all__ = ["CREDENTIALS", "PARTNER_HOST", "SETTINGS", "ArborConfig"]

PARTNER_HOST = "https://api.uk.arbor.sc"

#: Arbor throttles after a few hundred requests and says not for how long (sis-sdk-php
#: PR #60; a third-party client sleeps 10, 20, 30 s): back off longer than the shared
#: defaults, up to about two minutes in all, before a request is given up.
HTTP_SETTINGS = http_settings(attempts=8, wait_initial=1, wait_max=60)

CREDENTIALS = (
    CredentialField("username", "Arbor application username", env="MISBRIDGE_ARBOR_USERNAME"),
    CredentialField(
        "api_key", "Arbor API key (or application password)", env="MISBRIDGE_ARBOR_API_KEY"
    ),
)

STAFF_CURRENT_FROM = ("contracts", "staff_fields")

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
        choices=("graphql", "rest"),
    ),
    SettingField(
        "incremental",
        "auto: read students and staff from the change log since the last applied read; "
        "off: full reads unless --since is given",
        default="off",
        choices=("auto", "off"),
    ),
    SettingField(
        "page_size",
        "GraphQL rows per page (Arbor's maximum is not published)",
        "500",
        kind=int,
        minimum=1,
    ),
    SettingField("rest_page_size", "REST listing rows per page", "100", kind=int, minimum=1),
    SettingField(
        "rest_first_page",
        "the number of the first REST page (not published)",
        "1",
        kind=int,
        minimum=0,
    ),
    *HTTP_SETTINGS,
    SettingField(
        "include_former_staff",
        "yes: also extract staff Arbor still holds whose employment has ended",
        "no",
        kind=bool,
    ),
    SettingField(
        "staff_current_from",
        "what decides that a member of staff is current: 'contracts' (StaffContract "
        "dates, as the official SDK's examples do) or 'staff_fields' (Staff."
        "isActiveInSchool and Staff.leavingDate, as public GraphQL clients read them)",
        "contracts",
        choices=STAFF_CURRENT_FROM,
    ),
    SettingField(
        "eligibility_codes",
        "Arbor eligibility codes of the student flags, as flag=CODE pairs ('none': off)",
        "fsm=FSM,eal=EAL,pupil_premium=PP,service_child=SC",
    ),
    SettingField(
        "class_subject_path",
        "where a teaching group's subject name is, as a dotted field path ('none' = not read)",
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
_FLAGS = frozenset({"fsm", "eal", "pupil_premium", "service_child"})


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
        # Typed, bounded and checked once by the core (context.values).
        values = context.values

        def path(name: str) -> str:
            # "none" turns the field off: an empty value means "not given" to the core's
            # settings parser (the command line, a configuration file), so the default.
            value = context.settings.get(name)
            if value is None:
                return _DEFAULTS[name] or ""
            return "" if value.strip().lower() == "none" else value

        return cls(
            base_url=base.rstrip("/"),
            application_id=app,
            read_mode=values["read_mode"],
            incremental=values["incremental"] == "auto",
            page_size=values["page_size"],
            rest_page_size=values["rest_page_size"],
            rest_first_page=values["rest_first_page"],
            eligibility_codes=_codes(path("eligibility_codes")),
            class_subject_path=path("class_subject_path"),
            exam_subject_path=path("exam_subject_path"),
            exam_qualification_path=path("exam_qualification_path"),
            exam_series_path=path("exam_series_path"),
            include_former_staff=values["include_former_staff"],
            staff_current_from=values["staff_current_from"],
        )
