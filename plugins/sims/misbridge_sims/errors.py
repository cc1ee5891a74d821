"""Turn CommandReporter's failures into misbridge's error types.

CommandReporter reports a failure as ``<CommandReporterError>...</CommandReporterError>``
on its output; the element's inner structure is not documented (public scripts only show
the element), so only its text is read, and its exit code may or may not be non-zero.
The text is classified by what it says: an unknown report, a missing permission, a
refused login; anything else is a report error. Every message names the report and
says what to do; the password is scrubbed from anything CommandReporter echoes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from misbridge.plugin import AuthenticationError, PermissionDeniedError, SourceError
from misbridge_sims.reports import ALL_PERMISSION_LINES, PERMISSION_GROUPS, THIRD_PARTY_REPORTER

__all__ = [
    "ReportNotFoundError",
    "classify",
    "ids_suppressed",
    "permissions_named",
    "scrub",
]

_NOT_FOUND = re.compile(
    r"report\b.*\b(not found|does not exist|could not be found|cannot be found|is not available)"
    r"|\b(unknown|no such|invalid) report\b",
    re.IGNORECASE,
)
_PERMISSION = re.compile(
    r"permission|not permitted|access (is )?denied|not authori[sz]ed to|insufficient rights",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"log ?[io]n|password|user ?name|credential|authenticat|not a valid (sims )?user|trusted",
    re.IGNORECASE,
)


class ReportNotFoundError(SourceError):
    """The account has no report of that name (it was never imported, or is not in the
    account's "My Reports")."""

    def __init__(self, message: str, report: str) -> None:
        super().__init__(message, report=report)
        self.report = report


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


_KNOWN = {_squash(p): p for p in (*PERMISSION_GROUPS, *ALL_PERMISSION_LINES)}


def permissions_named(text: str) -> tuple[str, ...]:
    """The SIMS permission groups and lines a message names, as the docs spell them.

    Compared without spaces and punctuation, so "Students > Record > View" and
    "Students -> Record -> View" are the same line."""
    squashed = _squash(text)
    return tuple(name for key, name in _KNOWN.items() if key in squashed)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def import_hint(report: str) -> str:
    return (
        f"import the report '{report}' for this account with CommandReportImporter "
        "(definitions in docs/plugins/sims.md); with /TRUSTED it must be in that user's "
        "My Reports"
    )


def classify(
    report: str,
    text: str | None,
    *,
    exit_code: int | None,
    requires: tuple[str, ...],
    secrets: Iterable[str] = (),
) -> SourceError:
    """The error for a failed run of ``report``; ``requires`` are the report's own
    permissions, named when SIMS does not say which one is missing."""
    said = scrub(" ".join((text or "").split()), secrets)[:500]
    detail = f": {said}" if said else ""
    if said and _NOT_FOUND.search(said):
        return ReportNotFoundError(
            f"SIMS has no report '{report}' for this account{detail}; {import_hint(report)}",
            report,
        )
    if said and _PERMISSION.search(said):
        named = permissions_named(said)
        missing = named or tuple(p for p in requires if p != THIRD_PARTY_REPORTER)
        how = "" if named else " (SIMS did not say which; the report needs all of these)"
        return PermissionDeniedError(
            f"SIMS refused to run report '{report}' for lack of permission{detail}{how}; "
            "add the account to the missing permission groups in System Manager",
            missing=missing,
            report=report,
        )
    if said and _LOGIN.search(said):
        return AuthenticationError(
            f"SIMS refused the login running report '{report}'{detail}; check the SIMS user "
            "name and password (or, with /TRUSTED, that this Windows user is linked to a "
            "SIMS user)",
            report=report,
        )
    code = f" with exit code {exit_code}" if exit_code not in (None, 0) else ""
    return SourceError(
        f"CommandReporter failed to run report '{report}'{code}{detail or ' (no message)'}; "
        "run it once in SIMS (Reports > Run Report) to see the error there",
        report=report,
        exit_code=exit_code,
    )


def ids_suppressed(report: str, captions: Iterable[str], record: int) -> PermissionDeniedError:
    columns = ", ".join(f"'{c}'" for c in captions)
    return PermissionDeniedError(
        f"SIMS suppressed the ID columns ({columns}) of report '{report}' (record {record} has "
        f"none): the account is not in the '{THIRD_PARTY_REPORTER}' permission group; add it "
        "in System Manager",
        missing=(THIRD_PARTY_REPORTER,),
        report=report,
    )
