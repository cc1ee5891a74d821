"""The permissions pre-flight: what this SIMS account lacks, per dataset.

SIMS has no call that lists a user's permissions, and CommandReporter can only run
reports. So the probe runs each report the plugin needs, reads it to the end without
keeping a record (only counts and which columns appeared), and maps what happened onto
the permission groups of the integration overview and the permission lines of the
sync rules:

- the report is unknown -> the report is missing (import it);
- SIMS refuses it for lack of permission -> the permissions its message names, or,
  when it names none, every permission the report needs (said in a note);
- it runs but has no ID columns -> "Third Party Reporter" (SIMS suppresses IDs for
  accounts outside that group: documented behaviour);
- it runs but no record has any column of a permission line -> that line (inferred:
  SIMS may leave out what the account may not see; a note says so);
- a refused login stops the whole check (AuthenticationError).

A dataset also needs the permissions of the datasets it links to (the chains: students
sit in year groups, memberships link students and staff, results belong to students);
their missing permissions are listed too, and a note names the chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import aclosing

from attrs import define, field

from misbridge.plugin import (
    AuthenticationError,
    Dataset,
    PermissionCheck,
    PermissionDeniedError,
    SourceError,
)
from misbridge_sims.errors import ReportNotFoundError, import_hint
from misbridge_sims.reports import (
    PERSON_PHOTO,
    REPORTS,
    THIRD_PARTY_REPORTER,
    ReportDef,
    chain,
    reports_for,
)
from misbridge_sims.session import INFER_MIN_RECORDS, ReportStats, SimsSession

__all__ = ["ReportProbe", "check", "probe_report"]


@define
class ReportProbe:
    report: ReportDef
    name: str
    missing: list[str] = field(factory=list)
    notes: list[str] = field(factory=list)
    records: int = 0


async def probe_report(session: SimsSession, report: ReportDef) -> ReportProbe:
    """Run one report to its end, keeping nothing but what it shows about access."""
    name = session.report_name(report)
    probe = ReportProbe(report, name)
    stats = ReportStats(name)
    try:
        async with aclosing(session.records(report, stats)) as stream:
            async for record in stream:
                stats.records += 1
                # Only which columns appear is kept: never a value.
                stats.columns.update(record)
    except AuthenticationError:
        raise
    except ReportNotFoundError:
        probe.missing.append(f"report '{name}' ({import_hint(name)})")
        return probe
    except PermissionDeniedError as exc:
        probe.missing.extend(exc.missing)
        probe.notes.append(exc.message)
        return probe
    except SourceError as exc:
        probe.missing.append(f"report '{name}' runs without error")
        probe.notes.append(exc.message)
        return probe
    probe.records = stats.records
    ids = report.id_captions()
    if stats.records and not stats.columns.intersection(ids):
        probe.missing.append(THIRD_PARTY_REPORTER)
        probe.notes.append(
            f"'{name}' ran but SIMS left out its ID columns ({', '.join(ids)}): the account "
            f"is not in '{THIRD_PARTY_REPORTER}'"
        )
    for permission, captions in stats.withheld(report).items():
        probe.missing.append(permission)
        probe.notes.append(
            f"inferred: none of {stats.records} records of '{name}' has {', '.join(captions)}"
        )
    pictures = report.binary_captions()
    in_folder = session.config.photos.folder is not None
    if pictures and stats.records and not in_folder and not stats.columns.intersection(pictures):
        probe.notes.append(
            f"no record of '{name}' has a photo: none may be stored, the SIMS version may "
            "offer no photo field (then export the photos and set --photo-folder), or "
            f"SIMS left the column out for lack of '{PERSON_PHOTO}'"
        )
    if stats.records == 0:
        probe.notes.append(f"'{name}' returned no records: nothing to confirm access with")
    elif stats.records < INFER_MIN_RECORDS and report.permission_columns():
        probe.notes.append(
            f"'{name}' returned only {stats.records} records: too few to infer withheld columns"
        )
    return probe


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


async def check(session: SimsSession, datasets: Iterable[Dataset]) -> list[PermissionCheck]:
    """One :class:`PermissionCheck` per dataset, chains included."""
    wanted = [d for d in datasets if reports_for(d)]
    needed = {r.key: r for d in wanted for dep in chain(d) for r in reports_for(dep)}
    ordered = [r for r in REPORTS if r.key in needed]
    probes = await asyncio.gather(*(probe_report(session, r) for r in ordered))
    by_key = {p.report.key: p for p in probes}
    checks: list[PermissionCheck] = []
    for dataset in wanted:
        missing: list[str] = []
        notes: list[str] = []
        for dep in chain(dataset):
            for report in reports_for(dep):
                probe = by_key[report.key]
                missing += probe.missing
                notes += probe.notes
                if dep is not dataset and probe.missing:
                    notes.append(
                        f"{dataset.value} links to {dep.value} records, so it also needs "
                        f"what '{probe.name}' lacks: {', '.join(probe.missing)}"
                    )
        checks.append(PermissionCheck(dataset, _unique(missing), _unique(notes)))
    return checks
