"""The plugin's settings and credentials, read once per extract into one frozen value."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from attrs import frozen

from misbridge.plugin import (
    ConfigurationError,
    CredentialField,
    ExtractContext,
    Secret,
    SettingField,
)
from misbridge_sims.encoding import AUTO, DECLARED, check_encoding_name, console_code_page
from misbridge_sims.xmlstream import DEFAULT_MAX_BYTES

__all__ = [
    "CREDENTIALS",
    "DEFAULT_MAX_PHOTO_BYTES",
    "SETTINGS",
    "PhotoConfig",
    "ReporterConfig",
    "effective_date_params",
]

MIS = "sims"

CREDENTIALS = (
    CredentialField(
        "user",
        "SIMS user name (leave empty to log in as this Windows user with /TRUSTED)",
        env="MISBRIDGE_SIMS_USER",
        required=False,
    ),
    CredentialField(
        "password",
        "SIMS password (it is passed on CommandReporter's command line)",
        env="MISBRIDGE_SIMS_PASSWORD",
        required=False,
    ),
)

#: Photos in SIMS are ID-card pictures of a few dozen kilobytes.
DEFAULT_MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_NAMES = ("admission_number", "person_id")
PHOTO_CONSENT = ("honour", "ignore")

PHOTO_SETTINGS = (
    SettingField(
        "photo_folder",
        "read photos from this folder of exported pictures (named by admission number or "
        "person id) instead of the photo column of the photo reports",
        env="MISBRIDGE_SIMS_PHOTO_FOLDER",
    ),
    SettingField(
        "photo_names",
        "how the photo folder's files are named: 'admission_number' (pupils; staff by "
        "staff code) or 'person_id' (SIMS Person ID, pupils and staff)",
        default="admission_number",
    ),
    SettingField(
        "photo_consent",
        "'honour': a pupil's photo is taken only with the parental consent named by "
        "photo_consent_type; 'ignore': the school has consent on other grounds",
        default="honour",
    ),
    SettingField(
        "photo_consent_type",
        "the SIMS parental consent that allows a pupil's photo to be used",
        default="Photograph Student",
    ),
    SettingField("max_photo_bytes", "largest photo accepted, in bytes", default=None),
)

SETTINGS = (
    SettingField(
        "reporter",
        "path of CommandReporter.exe (usually C:\\Program Files\\SIMS\\SIMS .net\\"
        "CommandReporter.exe)",
        env="MISBRIDGE_SIMS_REPORTER",
    ),
    SettingField(
        "from_xml",
        "read reports exported to this folder ('<report name>.xml') instead of running "
        "CommandReporter",
        env="MISBRIDGE_SIMS_FROM_XML",
    ),
    SettingField("server", "SQL Server instance of SIMS (/SERVERNAME:)"),
    SettingField("database", "SIMS database name (/DATABASENAME:)"),
    SettingField(
        "trusted",
        "log in with Windows authentication (/TRUSTED): auto (when no user is given), "
        "true or false",
        default="auto",
    ),
    SettingField(
        "effective_date",
        "report effective date passed as /PARAMS: yyyy-mm-dd or 'today' (default: the "
        "report's own)",
    ),
    SettingField("report_prefix", "prefix of the imported report names", default="misbridge "),
    SettingField(
        "output",
        "how CommandReporter hands over the XML: 'stdout' (streamed from its standard "
        "output, as CommandReporter posts it; nothing on disk) or 'file' (/OUTPUT: into a "
        "private temporary folder, deleted after reading)",
        default="stdout",
    ),
    SettingField(
        "console_encoding",
        "stdout mode: the code page CommandReporter's output is in: 'auto' (the declared "
        "encoding while the bytes bear it out, else this console's code page), 'declared' "
        "(as a file), or a code page such as cp850, cp1252 or utf-8",
        default="auto",
    ),
    SettingField("report_timeout", "seconds one report may run", default="900"),
    SettingField("concurrency", "how many reports may run at once", default="2"),
    SettingField("max_report_bytes", "largest report accepted, in bytes", default=None),
    *PHOTO_SETTINGS,
)


def effective_date_params(value: str) -> str:
    """The ``/PARAMS:`` XML CommandReporter takes for an effective date (as in the public
    CHS.SIMSExchange code)."""
    when = date.today() if value.strip().lower() == "today" else date.fromisoformat(value.strip())
    return (
        "<ReportParameters><Parameter id='EffectiveDate' subreportfilter='FALSE' "
        "bypass='TRUE'><Name>EffectiveDate</Name><Type>Date</Type><Values>"
        f"<Date>{when:%d/%m/%Y} 00:00:00</Date></Values></Parameter></ReportParameters>"
    )


def _console_encoding(context: ExtractContext) -> str:
    raw = (context.setting("console_encoding", AUTO) or AUTO).strip().lower()
    if raw in (AUTO, DECLARED):
        return raw
    try:
        return check_encoding_name(raw)
    except LookupError:
        raise ConfigurationError(
            f"sims: the setting 'console_encoding' is auto, declared or a code page such as "
            f"cp850 (got {raw[:30]!r}, which is not a known encoding)",
            setting="console_encoding",
        ) from None


def _number(
    context: ExtractContext, name: str, default: str, kind: type[float] | type[int]
) -> float:
    raw = context.setting(name, default) or default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(
            f"sims: the setting {name!r} must be a number (got {raw[:20]!r})", setting=name
        ) from None
    if value <= 0:
        raise ConfigurationError(f"sims: the setting {name!r} must be above 0", setting=name)
    return value


def _choice(context: ExtractContext, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (context.setting(name, default) or default).strip().lower()
    if value not in allowed:
        raise ConfigurationError(
            f"sims: the setting {name!r} is {' or '.join(allowed)} (got {value[:30]!r})",
            setting=name,
        )
    return value


@frozen
class PhotoConfig:
    """Where photos come from and which may be taken (see docs/plugins/sims.md)."""

    folder: Path | None = None
    names: str = "admission_number"
    consent: str = "honour"
    consent_type: str = "Photograph Student"
    max_bytes: int = DEFAULT_MAX_PHOTO_BYTES

    @classmethod
    def from_context(cls, context: ExtractContext) -> PhotoConfig:
        folder = context.setting("photo_folder")
        consent_type = " ".join((context.setting("photo_consent_type") or "").split())
        return cls(
            folder=Path(folder) if folder else None,
            names=_choice(context, "photo_names", "admission_number", PHOTO_NAMES),
            consent=_choice(context, "photo_consent", "honour", PHOTO_CONSENT),
            consent_type=consent_type or "Photograph Student",
            max_bytes=int(_number(context, "max_photo_bytes", str(DEFAULT_MAX_PHOTO_BYTES), int)),
        )


@frozen
class ReporterConfig:
    reporter: Path | None
    from_xml: Path | None
    server: str | None
    database: str | None
    trusted: bool
    user: str | None
    password: Secret | None
    params: str | None
    prefix: str
    output: str
    timeout: float
    concurrency: int
    max_bytes: int
    console_encoding: str = AUTO
    console_code_page: str | None = None
    photos: PhotoConfig = PhotoConfig()
    grace: float = 5.0

    @classmethod
    def from_context(cls, context: ExtractContext) -> ReporterConfig:
        from_xml = context.setting("from_xml")
        reporter = context.setting("reporter")
        if from_xml is None and reporter is None:
            raise ConfigurationError(
                "sims: set --reporter (the path of CommandReporter.exe) or --from-xml (a folder "
                "of exported reports)",
                setting="reporter",
            )
        user_secret = context.credentials.get("user")
        user = user_secret.reveal() if user_secret else None
        password = context.credentials.get("password") or None
        trusted_setting = (context.setting("trusted", "auto") or "auto").lower()
        if trusted_setting not in ("auto", "true", "false"):
            raise ConfigurationError(
                "sims: the setting 'trusted' is auto, true or false", setting="trusted"
            )
        trusted = trusted_setting == "true" or (trusted_setting == "auto" and not user)
        if not trusted and not (user and password):
            raise ConfigurationError(
                "sims: give both the SIMS user and password credentials, or use Windows "
                "authentication (--trusted true, no user)",
                credential="password" if user else "user",
            )
        output = (context.setting("output", "stdout") or "stdout").lower()
        if output not in ("file", "stdout"):
            raise ConfigurationError(
                "sims: the setting 'output' is file or stdout", setting="output"
            )
        effective = context.setting("effective_date")
        try:
            params = effective_date_params(effective) if effective else None
        except ValueError:
            raise ConfigurationError(
                "sims: the setting 'effective_date' is yyyy-mm-dd or 'today'",
                setting="effective_date",
            ) from None
        return cls(
            reporter=Path(reporter) if reporter else None,
            from_xml=Path(from_xml) if from_xml else None,
            server=context.setting("server"),
            database=context.setting("database"),
            trusted=trusted,
            user=None if trusted else user,
            password=None if trusted else password,
            params=params,
            prefix=context.settings.get("report_prefix", "misbridge "),
            output=output,
            timeout=_number(context, "report_timeout", "900", float),
            concurrency=int(_number(context, "concurrency", "2", int)),
            max_bytes=int(_number(context, "max_report_bytes", str(DEFAULT_MAX_BYTES), int)),
            console_encoding=_console_encoding(context),
            console_code_page=console_code_page(),
            photos=PhotoConfig.from_context(context),
        )

    def check_reporter(self) -> None:
        """Refuse early when the reporter is not an executable file."""
        if self.from_xml is not None:
            if not self.from_xml.is_dir():
                raise ConfigurationError(
                    f"sims: the --from-xml folder {str(self.from_xml)!r} does not exist",
                    setting="from_xml",
                )
            return
        path = self.reporter
        if path is None or not path.is_file() or not os.access(path, os.X_OK):
            raise ConfigurationError(
                f"sims: CommandReporter was not found at {str(path)!r}; pass --reporter with "
                "the path of CommandReporter.exe on the SIMS server",
                setting="reporter",
            )
