"""An extract (an :class:`~misbridge.result.ExtractResult`, or the folder
``misbridge <mis> extract --out DIR`` wrote) as a :class:`~misbridge.export.roster.Roster`.

An extract has no internal ids, so its identifiers are derived from the MIS's own ids:
``uuid5(uuid5(EXTRACT_NAMESPACE, "extract:<mis>"), "<id space>:<MIS id>")``. They stay
the same between extracts of one MIS, and change when the school changes MIS: export
from the store for identifiers that survive that.

"Enabled" means what the store would keep enabled: every record of the extract except
students whose leaving date is before ``today`` (and their memberships).
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from misbridge.export.roster import (
    EXTRACT_NAMESPACE,
    Enrolment,
    Origin,
    Person,
    Roster,
    RosterClass,
    Session,
)
from misbridge.labels import record_identity
from misbridge.model import (
    AcademicYear,
    Dataset,
    EmailPreference,
    Group,
    GroupKind,
    Membership,
    Role,
    StaffMember,
    Student,
)
from misbridge.result import ExtractResult

__all__ = ["roster_from_extract", "roster_from_extract_folder"]

_EXPORTED_GROUPS = (GroupKind.CLASS, GroupKind.REGISTRATION)


def roster_from_extract_folder(folder: Path, *, today: date | None = None) -> Roster:
    """Read the extract folder ``folder`` (see :func:`misbridge.output.read_extract`)."""
    from misbridge.output import read_extract

    return roster_from_extract(read_extract(folder), today=today, source=f"extract {folder}")


def _origin(dataset: Dataset, mis: str, record: object) -> Origin:
    mis_id, label = record_identity(record)
    return Origin(dataset=dataset.value, mis=mis, mis_id=mis_id, label=label)


def roster_from_extract(
    result: ExtractResult, *, today: date | None = None, source: str | None = None
) -> Roster:
    """The roster an extract describes, as of ``today`` (default: today)."""
    as_of = today or date.today()
    mis = result.mis
    sessions = [
        Session(f"academic_year:{r.mis_id}", r.name, r.start, r.end, _origin(Dataset.YEARS, mis, r))
        for r in result.of(Dataset.YEARS)
        if isinstance(r, AcademicYear)
    ]
    people: list[Person] = []
    for r in result.of(Dataset.STUDENTS):
        if not isinstance(r, Student) or (r.leaving_date is not None and r.leaving_date < as_of):
            continue
        people.append(
            Person(
                key=f"student:{r.mis_id}",
                role=Role.STUDENT,
                origin=_origin(Dataset.STUDENTS, mis, r),
                legal_forename=r.legal_forename,
                legal_surname=r.legal_surname,
                preferred_forename=r.preferred_forename,
                preferred_surname=r.preferred_surname,
                identifier=r.admission_number,
                username=r.username,
                email_preference=r.email_preference,
                personal_email=r.personal_email,
                work_email=r.work_email,
                year_group=r.year_group,
                date_of_birth=r.date_of_birth,
                gender=r.gender,
            )
        )
    for r in result.of(Dataset.STAFF):
        if isinstance(r, StaffMember):
            people.append(
                Person(
                    key=f"staff:{r.mis_id}",
                    role=Role.STAFF,
                    origin=_origin(Dataset.STAFF, mis, r),
                    legal_forename=r.forename,
                    legal_surname=r.surname,
                    identifier=r.staff_code,
                    email_preference=EmailPreference.WORK,
                    work_email=r.work_email,
                    gender=r.gender,
                )
            )
    groups = result.of(Dataset.GROUPS)
    classes = [
        RosterClass(
            key=f"group.{g.kind.value}:{g.mis_id}",
            name=g.name,
            kind=g.kind,
            origin=_origin(Dataset.GROUPS, mis, g),
            subject=g.subject,
            code=g.code,
        )
        for g in groups
        if isinstance(g, Group) and g.kind in _EXPORTED_GROUPS
    ]
    known_people = {p.key for p in people}
    known_classes = {c.key for c in classes}
    enrolments = []
    for m in groups:
        if not isinstance(m, Membership) or m.group_kind not in _EXPORTED_GROUPS:
            continue
        person = f"{'student' if m.role is Role.STUDENT else 'staff'}:{m.person_mis_id}"
        group = f"group.{m.group_kind.value}:{m.group_mis_id}"
        if person in known_people and group in known_classes:
            start = m.start.isoformat() if m.start else ""
            enrolments.append(
                Enrolment(
                    f"membership:{group}:{person}:{start}", group, person, m.role, m.start, m.end
                )
            )
    return Roster(
        namespace=uuid.uuid5(EXTRACT_NAMESPACE, f"extract:{mis}"),
        source=source or f"extract from {mis}",
        sessions=tuple(sessions),
        people=tuple(people),
        classes=tuple(classes),
        enrolments=tuple(enrolments),
    )
