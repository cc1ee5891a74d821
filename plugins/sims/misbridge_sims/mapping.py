"""Map merged report entities onto source records. Mapping only: no business rules.

Values stay as SIMS wrote them ("Year  7", "001234", "True", "2024-09-01T00:00:00"):
the shared normaliser parses every SIMS date, flag and year encoding, keeps admission
numbers as given and makes every choice (which address, which telephone). An element
SIMS left out is an empty value, so every column is optional here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from misbridge.plugin import (
    GroupKind,
    Role,
    SourceAcademicYear,
    SourceAddress,
    SourceEmail,
    SourceExamResult,
    SourceFormatError,
    SourceGroup,
    SourceMembership,
    SourceRecord,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)
from misbridge_sims.merge import Entity

__all__ = ["GROUP_TYPES", "MAPPERS", "TRUE_VALUES", "map_entity"]

#: How SIMS names the base group types the pastoral report lists.
GROUP_TYPES: dict[str, GroupKind] = {
    "registration group": GroupKind.REGISTRATION,
    "registration": GroupKind.REGISTRATION,
    "house": GroupKind.HOUSE,
    "year group": GroupKind.YEAR,
    "year": GroupKind.YEAR,
}

TRUE_VALUES = frozenset({"true", "yes", "y", "t", "1"})

Row = Mapping[str, str]


def _flag(value: str | None) -> bool:
    # Primary/Main markers on contacts: SIMS writes True/False; absent means not marked.
    return value is not None and value.strip().lower() in TRUE_VALUES


def _lines(block: str | None) -> tuple[str, ...]:
    # The "Address Block" column holds one address line per text line.
    if not block:
        return ()
    return tuple(line for line in block.replace("\r\n", "\n").split("\n") if line.strip())


def _sub(entity: Entity, name: str) -> list[dict[str, str]]:
    return entity.subs.get(name, [])


def _students(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    yield SourceStudent(
        mis_id=entity.key,
        admission_number=m("Adno"),
        upn=m("UPN"),
        legal_forename=m("Legal Forename"),
        legal_surname=m("Legal Surname"),
        preferred_forename=m("Preferred Forename"),
        preferred_surname=m("Preferred Surname"),
        gender=m("Gender"),
        date_of_birth=m("Date of Birth"),
        ethnicity=m("Ethnicity"),
        eal=m("EAL"),
        fsm=m("FSM"),
        pupil_premium=m("Pupil Premium"),
        service_child=m("Service Child"),
        sen=tuple(
            SourceSen(
                code=s.get("SEN Status"), start=s.get("SEN Start Date"), end=s.get("SEN End Date")
            )
            for s in _sub(entity, "SEN")
        ),
        year_group=m("Year"),
        admission_date=m("Admission Date"),
        leaving_date=m("Leaving Date"),
        addresses=tuple(
            SourceAddress(
                type=a.get("Address Type"),
                lines=_lines(a.get("Address Block")),
                postcode=a.get("Postcode"),
                start=a.get("Address Start Date"),
            )
            for a in _sub(entity, "Address")
        ),
        telephones=tuple(
            SourceTelephone(
                type=t.get("Telephone Type"),
                number=t["Telephone Number"],
                primary=_flag(t.get("Telephone Primary")),
                main=_flag(t.get("Telephone Main")),
            )
            for t in _sub(entity, "Telephone")
            if t.get("Telephone Number")
        ),
        emails=_emails(entity),
    )


def _emails(entity: Entity) -> tuple[SourceEmail, ...]:
    return tuple(
        SourceEmail(
            type=e.get("Email Type"),
            address=e["Email Address"],
            primary=_flag(e.get("Email Primary")),
            main=_flag(e.get("Email Main")),
        )
        for e in _sub(entity, "Email")
        if e.get("Email Address")
    )


def _staff(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    yield SourceStaff(
        mis_id=entity.key,
        title=m("Title"),
        forename=m("Forename"),
        surname=m("Surname"),
        gender=m("Gender"),
        emails=_emails(entity),
        staff_code=m("Staff Code"),
    )


def _academic_years(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    yield SourceAcademicYear(entity.key, m("Name"), m("Start Date"), m("End Date"))


def _year_groups(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    yield SourceYearGroup(entity.key, m("Name"), m("NC Year"), m("Start Date"), m("End Date"))


def _members(entity: Entity, kind: GroupKind, source: str) -> Iterator[SourceMembership]:
    for subset, role in (("Student", Role.STUDENT), ("Staff", Role.STAFF)):
        for row in _sub(entity, subset):
            person = row.get(f"{subset} ID")
            if not person:
                raise SourceFormatError(
                    f"{source}: group {entity.key} has a {subset.lower()} member without "
                    f"'{subset} ID' (dates only); the report definition must include it",
                    source=source,
                )
            yield SourceMembership(
                group_mis_id=entity.key,
                group_kind=kind,
                person_mis_id=person,
                role=role,
                start=row.get(f"{subset} Start Date"),
                end=row.get(f"{subset} End Date"),
            )


def _classes(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    yield SourceGroup(entity.key, m("Class"), GroupKind.CLASS, subject=m("Subject"))
    yield from _members(entity, GroupKind.CLASS, source)


def _pastoral(entity: Entity, source: str) -> Iterator[SourceRecord]:
    m = entity.main.get
    raw_type = m("Group Type") or ""
    kind = GROUP_TYPES.get(" ".join(raw_type.split()).lower())
    if kind is None:
        raise SourceFormatError(
            f"{source}: group {entity.key} has 'Group Type' {raw_type[:40]!r}; expected one of "
            "'Registration Group', 'House' or 'Year Group' (filter the report to those types)",
            source=source,
        )
    if kind is not GroupKind.YEAR:
        # Year groups themselves come from the Year Groups report; here only their
        # memberships are read.
        yield SourceGroup(entity.key, m("Group Name"), kind, code=m("Short Name"))
    yield from _members(entity, kind, source)


def _exam_results(entity: Entity, source: str) -> Iterator[SourceRecord]:
    for r in _sub(entity, "Result"):
        yield SourceExamResult(
            student_mis_id=entity.key,
            series=r.get("Series"),
            qualification=r.get("Qualification"),
            subject=r.get("Subject"),
            grade=r.get("Grade"),
            result_date=r.get("Result Date"),
        )


MAPPERS: dict[str, Callable[[Entity, str], Iterator[SourceRecord]]] = {
    "academic_years": _academic_years,
    "year_groups": _year_groups,
    "staff": _staff,
    "students": _students,
    "classes": _classes,
    "pastoral": _pastoral,
    "exam_results": _exam_results,
}


def map_entity(report_key: str, entity: Entity, source: str) -> Iterator[SourceRecord]:
    """The source records one merged entity of report ``report_key`` stands for."""
    return MAPPERS[report_key](entity, source)
