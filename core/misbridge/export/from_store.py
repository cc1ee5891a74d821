"""The store's enabled roster as a :class:`~misbridge.export.roster.Roster`.

Every read of the store's tables an export makes is in this module, in one read
transaction (the store's own: REPEATABLE READ on PostgreSQL), with SQLAlchemy table
objects. Identifiers are ``uuid5(store id, "<kind>:<internal id>")``: internal ids never
change, whatever MIS a record came from, so neither do the exported ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from misbridge.export.roster import Enrolment, Origin, Person, Roster, RosterClass, Session
from misbridge.model import EmailPreference, GroupKind, Role
from misbridge.store import schema
from misbridge.store.store import Store

__all__ = ["roster_from_store"]

_EXPORTED_GROUPS = (GroupKind.CLASS.value, GroupKind.REGISTRATION.value)


def roster_from_store(store: Store) -> Roster:
    """Read the enabled academic years, students, staff, classes, registration groups
    and memberships of ``store``."""
    # The store's own read transaction: a consistent snapshot, and database failures
    # become a StoreError that names the action, never a value.
    with store._transaction("read its roster for an export") as conn:
        store_id = conn.execute(sa.select(schema.store_state.c.store_id)).scalar_one()
        sources = _sources(conn)
        sessions = _sessions(conn, sources)
        people = _students(conn, sources) + _staff(conn, sources)
        classes = _classes(conn, sources)
        enrolments = _enrolments(conn, {p.key for p in people}, {c.key for c in classes})
    return Roster(
        namespace=uuid.UUID(store_id),
        source=f"store {store.url}",
        sessions=tuple(sessions),
        people=tuple(people),
        classes=tuple(classes),
        enrolments=tuple(enrolments),
    )


def _enabled(conn: sa.Connection, table: sa.Table, *columns: str) -> Iterable[Any]:
    query = sa.select(table.c.id, *(table.c[c] for c in columns)).where(table.c.enabled)
    return conn.execute(query.order_by(table.c.id))


def _sources(conn: sa.Connection) -> dict[str, tuple[str, str]]:
    """Each internal id's MIS and MIS id (the most recently linked, for labels)."""
    ids = schema.mis_id
    query = sa.select(ids.c.internal_id, ids.c.mis, ids.c.mis_id).order_by(
        ids.c.created_at, ids.c.mis, ids.c.mis_id
    )
    return {row.internal_id: (row.mis, row.mis_id) for row in conn.execute(query)}


def _origin(
    sources: Mapping[str, tuple[str, str]], internal_id: str, dataset: str, label: str | None
) -> Origin:
    mis, mis_id = sources.get(internal_id, (None, None))
    if label is None:
        what = {"students": "student", "staff": "staff member", "years": "academic year"}
        ident = f"MIS id {mis_id}" if mis_id else f"store id {internal_id}"
        label = f"{what.get(dataset, 'record')} with {ident}"
    return Origin(dataset=dataset, mis=mis, mis_id=mis_id, label=label)


def _sessions(conn: sa.Connection, sources: Mapping[str, tuple[str, str]]) -> list[Session]:
    t = schema.academic_year
    found = []
    for row in _enabled(conn, t, "name", "start_date", "end_date"):
        if row.start_date is None or row.end_date is None:  # the model requires both
            continue
        ident = sources.get(row.id, (None, None))[1]
        label = f"academic year {row.name} ({f'MIS id {ident}' if ident else 'no MIS id'})"
        found.append(
            Session(
                key=f"academic_year:{row.id}",
                name=row.name or "",
                start=row.start_date,
                end=row.end_date,
                origin=_origin(sources, row.id, "years", label),
            )
        )
    return found


def _accounts(conn: sa.Connection) -> dict[str, tuple[str | None, str | None]]:
    a = schema.account
    query = sa.select(a.c.person_id, a.c.username, a.c.contact_preference)
    return {r.person_id: (r.username, r.contact_preference) for r in conn.execute(query)}


def _preference(value: str | None) -> EmailPreference | None:
    try:
        return EmailPreference(value) if value else None
    except ValueError:
        return None


def _students(conn: sa.Connection, sources: Mapping[str, tuple[str, str]]) -> list[Person]:
    accounts = _accounts(conn)
    columns = (
        "admission_number",
        "legal_forename",
        "legal_surname",
        "preferred_forename",
        "preferred_surname",
        "gender",
        "date_of_birth",
        "year_group",
        "personal_email",
        "work_email",
    )
    found = []
    for row in _enabled(conn, schema.student, *columns):
        username, preference = accounts.get(row.id, (None, None))
        admission = row.admission_number
        label = f"admission number {admission}" if admission else None
        found.append(
            Person(
                key=f"student:{row.id}",
                role=Role.STUDENT,
                origin=_origin(sources, row.id, "students", label),
                legal_forename=row.legal_forename,
                legal_surname=row.legal_surname,
                preferred_forename=row.preferred_forename,
                preferred_surname=row.preferred_surname,
                identifier=admission,
                username=username,
                email_preference=_preference(preference),
                personal_email=row.personal_email,
                work_email=row.work_email,
                year_group=row.year_group,
                date_of_birth=row.date_of_birth,
                gender=row.gender,
            )
        )
    return found


def _staff(conn: sa.Connection, sources: Mapping[str, tuple[str, str]]) -> list[Person]:
    columns = ("forename", "surname", "gender", "work_email", "staff_code")
    found = []
    for row in _enabled(conn, schema.staff, *columns):
        label = f"staff code {row.staff_code}" if row.staff_code else None
        found.append(
            Person(
                key=f"staff:{row.id}",
                role=Role.STAFF,
                origin=_origin(sources, row.id, "staff", label),
                legal_forename=row.forename,
                legal_surname=row.surname,
                identifier=row.staff_code,
                email_preference=EmailPreference.WORK,
                work_email=row.work_email,
                gender=row.gender,
            )
        )
    return found


def _classes(conn: sa.Connection, sources: Mapping[str, tuple[str, str]]) -> list[RosterClass]:
    t = schema.roster_group
    found = []
    for row in _enabled(conn, t, "name", "kind", "subject", "code"):
        if row.kind not in _EXPORTED_GROUPS:
            continue
        kind = GroupKind(row.kind)
        ident = sources.get(row.id, (None, None))[1]
        what = "class" if kind is GroupKind.CLASS else "registration group"
        where = f"MIS id {ident}" if ident else f"store id {row.id}"
        found.append(
            RosterClass(
                key=f"group:{row.id}",
                name=row.name or "",
                kind=kind,
                origin=_origin(sources, row.id, "groups", f"{what} {row.name} ({where})"),
                subject=row.subject,
                code=row.code,
            )
        )
    return found


def _enrolments(conn: sa.Connection, people: set[str], classes: set[str]) -> list[Enrolment]:
    t = schema.membership
    query = (
        sa.select(t.c.id, t.c.group_id, t.c.person_id, t.c.role, t.c.start_date, t.c.end_date)
        .where(t.c.enabled, t.c.group_kind.in_(_EXPORTED_GROUPS))
        .order_by(t.c.id)
    )
    found = []
    for row in conn.execute(query):
        role = Role(row.role)
        person = f"{'student' if role is Role.STUDENT else 'staff'}:{row.person_id}"
        group = f"group:{row.group_id}"
        # A membership of a disabled person or group is not part of the roster.
        if person in people and group in classes:
            found.append(
                Enrolment(
                    key=f"membership:{row.id}",
                    class_key=group,
                    person_key=person,
                    role=role,
                    start=row.start_date,
                    end=row.end_date,
                )
            )
    return found
