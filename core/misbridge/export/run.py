"""Writing an export: the files, the zip for upload, and the report of what was left out.

Layout of ``out``::

    out/oneroster-1.2/*.csv     the files (sds-v2.1/ for School Data Sync)
    out/oneroster-1.2.zip       the same files, for upload
    out/summary.json            counts per file and per dataset (no personal data)
    out/errors.jsonl, errors.csv, report.html   every record left out or changed, and why
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import frozen

from misbridge.errors import RecordError, Severity
from misbridge.export import oneroster, sds
from misbridge.export.package import Package, write_package, write_private
from misbridge.export.roster import Roster
from misbridge.export.rules import Issues, demographics_allowed
from misbridge.model import Role
from misbridge.validate.profiles import Profile

__all__ = ["ExportResult", "export_oneroster", "export_sds"]


@frozen
class ExportResult:
    """What an export wrote. ``errors`` lists every record left out (severity error) or
    changed (warning), with its code; ``skipped`` counts enrolments not written because
    their person or class was left out (or they fall outside the class's years)."""

    format: str
    folder: Path
    zip_path: Path
    files: dict[str, int]  # file name -> data rows
    errors: list[RecordError]
    skipped: int
    summary: dict[str, Any]

    @property
    def left_out(self) -> int:
        """How many records were left out (each reported with its reasons)."""
        errors = self.errors
        return len({(e.dataset, e.record_label) for e in errors if e.severity is Severity.ERROR})


def export_oneroster(
    roster: Roster,
    out: Path,
    *,
    org_name: str,
    org_identifier: str | None = None,
    version: str = "1.2",
    profile: str | Profile = "roster",
) -> ExportResult:
    """Write the OneRoster ``version`` package of ``roster`` into ``out``."""
    started = _now()
    package, issues = oneroster.build_oneroster(
        roster,
        org_name=org_name,
        org_identifier=org_identifier,
        version=version,
        demographics=demographics_allowed(profile),
    )
    name = f"oneroster-{version}"
    known = ["manifest.csv", *oneroster.HEADERS[version]]
    return _write(roster, package, issues, out, name, known, started)


def export_sds(
    roster: Roster, out: Path, *, org_name: str, profile: str | Profile = "roster"
) -> ExportResult:
    """Write the School Data Sync v2.1 files of ``roster`` into ``out``."""
    started = _now()
    package, issues = sds.build_sds(
        roster, org_name=org_name, demographics=demographics_allowed(profile)
    )
    return _write(roster, package, issues, out, "sds-v2.1", list(sds.HEADERS), started)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _write(
    roster: Roster,
    package: Package,
    issues: Issues,
    out: Path,
    name: str,
    known: Iterable[str],
    started: datetime,
) -> ExportResult:
    from misbridge.report import write_reports

    folder, zip_path = out / name, out / f"{name}.zip"
    out.mkdir(parents=True, exist_ok=True, mode=0o700)  # pupils' data: owner-only
    write_package(package, folder, zip_path, known)
    files = {t.name: len(t.rows) for t in package.tables if t.name != "manifest.csv"}
    counted = _counts(roster, package, issues.errors)
    skipped = len(roster.enrolments) - len(_rows(package, "enrollments.csv"))
    summary = {
        "mis": f"{issues.format} export",
        "format": issues.format,
        "source": roster.source,
        "started": started.isoformat(),
        "finished": _now().isoformat(),
        "ok": True,
        "zip": zip_path.name,
        "files": files,
        "datasets": counted,
        "errors": sum(1 for e in issues.errors if e.severity is Severity.ERROR),
        "warnings": sum(1 for e in issues.errors if e.severity is Severity.WARNING),
        "errors_by_code": dict(sorted(Counter(e.code for e in issues.errors).items())),
    }
    write_private(out / "summary.json", json.dumps(summary, indent=2).encode("utf-8"))
    write_reports(issues.errors, summary, out)
    return ExportResult(
        format=issues.format,
        folder=folder,
        zip_path=zip_path,
        files=files,
        errors=list(issues.errors),
        skipped=skipped,
        summary=summary,
    )


def _counts(
    roster: Roster, package: Package, errors: list[RecordError]
) -> dict[str, dict[str, Any]]:
    """Per dataset: records in the roster, exported and left out (for the report)."""
    left_out = {(e.dataset, e.record_label) for e in errors if e.severity is Severity.ERROR}
    rejected = Counter(dataset for dataset, _ in left_out)
    users = {row[0] for row in _rows(package, "users.csv")}
    held = {
        "years": len(roster.sessions),
        "students": sum(1 for p in roster.people if p.role is Role.STUDENT),
        "staff": sum(1 for p in roster.people if p.role is Role.STAFF),
        "groups": len(roster.classes),
    }
    exported = {
        "years": len(roster.sessions),
        "students": sum(
            1 for p in roster.people if p.role is Role.STUDENT and roster.sourced_id(p.key) in users
        ),
        "staff": sum(
            1 for p in roster.people if p.role is Role.STAFF and roster.sourced_id(p.key) in users
        ),
        "groups": len(_rows(package, "classes.csv")),
    }
    enrolled = len(_rows(package, "enrollments.csv"))
    found: dict[str, dict[str, Any]] = {
        d: {
            "status": "complete",
            "records": exported[d],
            "rejected": rejected.get(d, 0),
            "message": f"{held[d]} in the roster",
        }
        for d in held
    }
    found["enrolments"] = {
        "status": "complete",
        "records": enrolled,
        "rejected": 0,
        "message": f"{len(roster.enrolments) - enrolled} skipped: their person or class was "
        "left out, or they fall outside the class's academic years",
    }
    return found


def _rows(package: Package, name: str) -> list[tuple[str, ...]]:
    """The rows of file ``name`` (none when the package leaves it out)."""
    return next((t.rows for t in package.tables if t.name == name), [])
