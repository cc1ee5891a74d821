"""Rendering a sample school (:class:`SourceSchool`) as Arbor entities in the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from misbridge.plugin import GroupKind, RawDate, Role, SourceEmail, SourceSchool, SourceStudent
from misbridge_arbor.sim_store import GROUP_ENTITIES, EntityStore, Ref, StoreOptions

__all__ = ["build_store", "embed", "merge"]


def embed(path: str, value: Any) -> dict[str, Any]:
    """``embed("a.b.c", v)`` -> ``{"a": {"b": {"c": v}}}``."""
    head, _, rest = path.partition(".")
    return {head: embed(rest, value) if rest else value}


def merge(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _day(value: RawDate) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    return date.fromisoformat(str(value)[:10])


def build_store(
    school: SourceSchool, options: StoreOptions | None = None, today: date | None = None
) -> EntityStore:
    """Render a sample school as Arbor entities (and the former staff Arbor keeps)."""
    store = EntityStore(options=options or StoreOptions())
    today = today or date.today()
    years: list[tuple[str, date | None, date | None]] = []
    for ay in school.academic_years:
        start, end = _day(ay.start), _day(ay.end)
        store.add(
            "AcademicYear",
            {"academicYearName": ay.name, "code": ay.name, "startDate": start, "endDate": end},
            ay.mis_id,
        )
        years.append((ay.mis_id, start, end))
    current = years[-1][0] if years else None
    levels: dict[str, str] = {}
    for order, yg in enumerate(school.year_groups):
        start = _day(yg.start)
        year = next((y for y, s, e in years if s == start and e == _day(yg.end)), None)
        store.add(
            "AcademicLevel",
            {
                "academicLevelName": yg.name,
                "shortName": yg.code,
                "curriculumGrade": yg.code,
                "academicYear": Ref("AcademicYear", year) if year else None,
                "displayOrder": order + 1,
            },
            yg.mis_id,
        )
        if yg.code is not None and year == current:
            levels.setdefault(yg.code, yg.mis_id)
    _add_staff(store, school, today)
    for student in school.students:
        _add_student(store, student, levels)
    _add_groups(store, school, current)
    _add_results(store, school)
    for photo in school.photos:
        kind = "student" if photo.role is Role.STUDENT else "staff"
        store.photos[(kind, photo.person_mis_id)] = photo.data
    return store


def _person(store: EntityStore, **names: Any) -> Ref:
    gender = store.lookup("Gender", names.pop("gender"))
    title = store.lookup("Title", names.pop("title", None))
    return Ref("Person", store.add("Person", {"gender": gender, "title": title, **names}))


def _contacts(
    store: EntityStore, owner: Ref, emails: Iterable[Any], phones: Iterable[Any] = ()
) -> None:
    # Arbor keeps no Primary/Main flag, only an order: the school's flagged contacts
    # come first (Primary, then Main), the rest in the order the school listed them.
    types = store.options.contact_types

    def ranked(items: Iterable[Any]) -> list[Any]:
        return sorted(items, key=lambda c: (not c.primary, not c.main))

    for order, email in enumerate(ranked(emails), start=1):
        store.add(
            "EmailAddress",
            {
                "emailAddressOwner": owner,
                "emailAddressType": types["email"].get(email.type or "", email.type),
                "emailAddress": email.address,
                "dataOrder": order,
            },
        )
    for order, phone in enumerate(ranked(phones), start=1):
        store.add(
            "TelephoneNumber",
            {
                "numberOwner": owner,
                "telephoneNumberType": types["phone"].get(phone.type or "", phone.type),
                "number": phone.number,
                "telephoneNumberRanking": order,
            },
        )


#: Former staff the simulated school still holds (Arbor keeps ex-staff): their contracts
#: ended, so no correct extract returns them as current staff.
FORMER_STAFF: tuple[tuple[str, str, str], ...] = (
    ("L9001", "Former", "Teacher"),
    ("L9002", "Retired", "Head"),
)


def _staff_record(
    store: EntityStore,
    staff_id: str,
    person: Ref,
    code: str | None,
    contracts: list[tuple[date, date | None]],
    today: date,
) -> None:
    """A member of staff and their contracts. ``joiningDate``, ``leavingDate`` and
    ``isActiveInSchool`` are what public GraphQL clients read on ``Staff``; here they
    follow the contracts, which decide "current" in the official SDK's examples
    (a contract started before now, with no end date or one not yet passed)."""
    current = any(start <= today and (end is None or end >= today) for start, end in contracts)
    ended = [end for _, end in contracts if end is not None]
    left = not current and bool(contracts) and len(ended) == len(contracts)
    store.add(
        "Staff",
        {
            "person": person,
            "staffNumber": None,
            "timetableAbbreviation": code,
            "joiningDate": min((start for start, _ in contracts), default=None),
            "leavingDate": max(ended) if left else None,
            "isActiveInSchool": not left,
        },
        staff_id,
    )
    for start, end in contracts:
        store.add(
            "StaffContract",
            {"staff": Ref("Staff", staff_id), "startDate": start, "endDate": end},
        )


def _add_staff(store: EntityStore, school: SourceSchool, today: date) -> None:
    starts = [d for y in school.academic_years if (d := _day(y.start)) is not None]
    began = min(starts, default=today - timedelta(days=365))
    for n, staff in enumerate(school.staff):
        person = _person(
            store,
            gender=staff.gender,
            title=staff.title,
            legalFirstName=staff.forename,
            legalLastName=staff.surname,
            preferredFirstName=staff.forename,
            preferredLastName=staff.surname,
        )
        # Most staff hold one open contract; the second has an ended contract before
        # the current one (a change of post); the last has none recorded at all.
        contracts: list[tuple[date, date | None]] = [(began, None)]
        if n == 1:
            contracts = [(began - timedelta(days=900), began - timedelta(days=1)), (began, None)]
        elif n == len(school.staff) - 1 and n > 1:
            contracts = []
        _staff_record(store, staff.mis_id, person, staff.staff_code, contracts, today)
        _contacts(store, Ref("Staff", staff.mis_id), staff.emails)
    for mis_id, forename, surname in FORMER_STAFF[: store.options.former_staff]:
        person = _person(
            store,
            gender="F",
            legalFirstName=forename,
            legalLastName=surname,
            preferredFirstName=forename,
            preferredLastName=surname,
        )
        contracts = [(began - timedelta(days=2000), today - timedelta(days=200))]
        _staff_record(store, mis_id, person, mis_id[-2:], contracts, today)
        address = f"{forename}.{surname}@example.org".lower()
        _contacts(store, Ref("Staff", mis_id), [SourceEmail(type="W", address=address)])


def _add_student(store: EntityStore, s: SourceStudent, levels: Mapping[str, str]) -> None:
    person = _person(
        store,
        gender=s.gender,
        legalFirstName=s.legal_forename,
        legalLastName=s.legal_surname,
        preferredFirstName=s.preferred_forename,
        preferredLastName=s.preferred_surname,
        dateOfBirth=_day(s.date_of_birth),
    )
    level = levels.get(s.year_group or "")
    ref = Ref("Student", s.mis_id)
    store.add(
        "Student",
        {
            "person": person,
            "studentNumber": s.admission_number,
            "ethnicity": store.lookup("Ethnicity", s.ethnicity),
            # Fields public clients read over GraphQL only; the REST path of UPNs is unknown.
            "upn": s.upn,
            "mostRecentEntryDate": _day(s.admission_date),
            "leavingDate": _day(s.leaving_date),
            "displayAcademicLevel": Ref("AcademicLevel", level) if level else None,
        },
        s.mis_id,
    )
    _contacts(store, ref, s.emails, s.telephones)
    kinds = store.options.contact_types["address"]
    for address in s.addresses:
        lines = list(address.lines)
        town = lines.pop() if len(lines) > 1 else None
        postal = store.add(
            "PostalAddress",
            {
                "address1": lines[0] if lines else None,
                "address2": lines[1] if len(lines) > 1 else None,
                "address3": ", ".join(lines[2:]) or None,
                "postalTown": town,
                "postalCode": address.postcode,
            },
        )
        store.add(
            "PostalAddressOccupancy",
            {
                "postalAddress": Ref("PostalAddress", postal),
                "occupant": ref,
                "effectiveDate": _day(address.start),
                "endDate": None,
                "postalAddressType": kinds.get(address.type or "", address.type),
            },
        )
    for sen in s.sen:
        store.add(
            "SenStatusAssignment",
            {
                "senStatus": store.lookup("SenStatus", sen.code),
                "student": ref,
                "startDate": _day(sen.start),
                "endDate": _day(sen.end),
            },
        )
    for flag, code in store.options.eligibility_codes.items():
        if getattr(s, flag) is True:
            store.add(
                "EligibilityRecord",
                {
                    "eligibility": store.lookup("Eligibility", code),
                    "person": ref,
                    "startDate": _day(s.admission_date),
                    "endDate": None,
                },
            )


def _add_groups(store: EntityStore, school: SourceSchool, year: str | None) -> None:
    academic_year = Ref("AcademicYear", year) if year else None
    for group in school.groups:
        kind = GROUP_ENTITIES[group.kind][0]
        props: dict[str, Any] = {"academicYear": academic_year}
        if group.kind is GroupKind.REGISTRATION:
            props |= {"registrationFormName": group.name, "shortName": group.code}
        elif group.kind is GroupKind.HOUSE:
            props |= {"houseName": group.name, "shortName": group.code}
        elif group.kind is GroupKind.CLASS:
            props |= {"teachingGroupName": group.name, "description": None}
            if store.options.class_subject_path:
                merge(props, embed(store.options.class_subject_path, group.subject))
        else:
            continue
        store.add(kind, props, group.mis_id)
    for m in school.memberships:
        group_kind, member_kind, tutor_kind, link = GROUP_ENTITIES[m.group_kind]
        person = (
            {"student": Ref("Student", m.person_mis_id)}
            if m.role is Role.STUDENT
            else {"staff": Ref("Staff", m.person_mis_id)}
        )
        store.add(
            member_kind if m.role is Role.STUDENT else tutor_kind,
            {
                link: Ref(group_kind, m.group_mis_id),
                **person,
                "startDate": _day(m.start),
                "endDate": _day(m.end),
            },
        )


def _add_results(store: EntityStore, school: SourceSchool) -> None:
    options = store.options
    for result in school.exam_results:
        when = _day(result.result_date)
        props: dict[str, Any] = {
            "student": Ref("Student", result.student_mis_id),
            "qualificationGrade": store.lookup("QualificationGrade", result.grade),
            "resultDatetime": datetime(when.year, when.month, when.day) if when else None,
        }
        for path, value in (
            (options.exam_subject_path, result.subject),
            (options.exam_qualification_path, result.qualification),
            (options.exam_series_path, result.series),
        ):
            if path:
                merge(props, embed(path, value))
        store.add("QualificationResult", props)
