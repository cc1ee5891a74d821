"""A deterministic, realistic UK secondary school, as source records.

``sample_school()`` is the built-in sample school every simulator serves, the demo
extracts and the conformance suite compares against. The same seed and sizes always
give the same school, whatever the date or machine. Besides ordinary pupils it always
holds every messy case real MIS data has (see :data:`MESSY_CASES`), so that each
field rule is exercised through every MIS.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from misbridge.model import GroupKind, Role
from misbridge.sample import names
from misbridge.sample.contacts import ContactMaker
from misbridge.sample.records import ASPECTS, RecordsMaker
from misbridge.source import (
    SourceAcademicYear,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceSchool,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)
from misbridge.validate.upn import upn_check_letter

__all__ = ["ASPECTS", "MESSY_CASES", "sample_school", "upn_check_letter", "with_new_ids"]

#: What each messy pupil is there to exercise, by the MIS id the generator gives it.
MESSY_CASES = {
    "90001": "two home addresses: the later start date wins, listed first",
    "90002": "phones and emails where Primary is not first, and Main without Primary",
    "90003": "no forename (rejected: forename required)",
    "90004": "no surname (rejected: surname required)",
    "90005": "no email at all (fails the account-sync profile only)",
    "90006": "a leaver whose leaving date has passed",
    "90007": "a guest pupil with no admission number (username falls back to email)",
    "90008": "a gender outside the configured list (left out, not guessed)",
    "90009": "a temporary UPN ending in a letter",
    "90010": "moved registration group mid-year (two dated memberships)",
    "90011": "SEN history: SEN support ended, an EHC plan started",
    "90012": "an address listed without a start date beside a dated one",
}


class _Builder(ContactMaker, RecordsMaker):
    def __init__(self, seed: int, students: int, staff: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.n_students = students
        self.n_staff = staff
        self.year = year  # the academic year that starts in September of this year
        self.ay_start = date(year, 9, 1)
        self.ay_end = date(year + 1, 7, 31)
        self.staff: list[SourceStaff] = []
        self.students: list[SourceStudent] = []
        self.groups: list[SourceGroup] = []
        self.memberships: list[SourceMembership] = []
        self.results: list[SourceExamResult] = []
        self.photos: list[SourcePhoto] = []
        self.used_emails: set[str] = set()
        self.serials: dict[int, int] = {}

    def make_staff(self) -> None:
        for i in range(self.n_staff):
            female = self.rng.random() < 0.6
            forename, surname = self.name(female)
            title = self.rng.choice(names.TITLES_F if female else names.TITLES_M)
            local = f"{forename[0]}.{surname}".replace(" ", "").replace("'", "")
            emails = [self.email(local, "W", primary=True)]
            if self.rng.random() < 0.2:
                emails.append(self.email(f"{forename}{surname}", "H"))
                self.rng.shuffle(emails)
            code = (forename[0] + surname[:2]).upper()
            self.staff.append(
                SourceStaff(
                    mis_id=f"S{1000 + i}",
                    title=title,
                    forename=forename,
                    surname=surname,
                    gender="F" if female else "M",
                    emails=tuple(emails),
                    staff_code=f"{code}{i % 10}",
                )
            )

    def student(self, mis_id: str, nc_year: int, index: int) -> SourceStudent:
        rng = self.rng
        female = rng.random() < 0.5
        forename, surname = self.name(female)
        preferred = None
        if rng.random() < 0.08:
            preferred = rng.choice(names.FORENAMES_F if female else names.FORENAMES_M)
        # Age on 31 August before the academic year starts decides the NC year.
        born_year = self.year - nc_year - 5
        dob = date(born_year, 9, 1) + timedelta(days=rng.randint(0, 364))
        entry_year = self.year - (nc_year - 7) if nc_year <= 11 else self.year - (nc_year - 12)
        admission = date(entry_year, 9, 1)
        if rng.random() < 0.05:
            admission += timedelta(days=rng.randint(20, 200))
        ethnicity = rng.choices(
            [c for c, _ in names.ETHNICITIES], weights=[w for _, w in names.ETHNICITIES]
        )[0]
        fsm = rng.random() < 0.22
        service = rng.random() < 0.03
        sen_roll = rng.random()
        sen_code = "E" if sen_roll < 0.03 else "K" if sen_roll < 0.15 else "N"
        sen = (SourceSen(code=sen_code, start=admission),)
        family = f"{surname}".replace(" ", "").replace("'", "")
        phones = [self.phone("H", primary=True), self.phone("M")]
        emails = [self.email(f"{forename}.{family}", "H", primary=True)]
        return SourceStudent(
            mis_id=mis_id,
            admission_number=f"{3000 + index:06d}",
            upn=self.upn(born_year + 5),
            legal_forename=forename,
            legal_surname=surname,
            preferred_forename=preferred,
            preferred_surname=None,
            gender="F" if female else "M",
            date_of_birth=dob,
            ethnicity=ethnicity,
            eal=rng.random() < 0.15,
            fsm=fsm,
            pupil_premium=fsm or service or rng.random() < 0.05,
            service_child=service,
            sen=sen,
            year_group=str(nc_year),
            admission_date=admission,
            leaving_date=None,
            addresses=(self.address(admission),),
            telephones=tuple(phones),
            emails=tuple(emails),
        )

    def make_students(self) -> None:
        # Sixth-form years are smaller than the main school, as in most 11-18 schools.
        weights = {7: 10, 8: 10, 9: 10, 10: 10, 11: 10, 12: 6, 13: 5}
        total = sum(weights.values())
        ordinary = max(self.n_students - len(MESSY_CASES), 0)
        counts = {y: ordinary * w // total for y, w in weights.items()}
        counts[7] += ordinary - sum(counts.values())
        index = 0
        for nc_year, count in counts.items():
            for _ in range(count):
                self.students.append(self.student(str(10000 + index), nc_year, index))
                index += 1
        self.students.extend(self.messy(index))

    def messy(self, index: int) -> list[SourceStudent]:
        made: list[SourceStudent] = []
        # 90011 (index 10) needs an SEN history before this year: not a new Year 7.
        years = [7, 8, 9, 10, 11, 12, 8, 9, 10, 11, 9, 8]
        for n, mis_id in enumerate(MESSY_CASES):
            base = self.student(mis_id, years[n], index + n)
            made.append(self.mess_up(mis_id, base))
        return made

    def mess_up(self, mis_id: str, s: SourceStudent) -> SourceStudent:
        from attrs import evolve

        start = s.admission_date if isinstance(s.admission_date, date) else self.ay_start
        if mis_id == "90001":
            older = self.address(start - timedelta(days=900))
            newer = self.address(start + timedelta(days=400))
            work = self.address(start, kind="W")
            return evolve(s, addresses=(newer, work, older))
        if mis_id == "90002":
            phones = (
                self.phone("H"),
                self.phone("H", main=True),
                self.phone("H", primary=True),
                self.phone("M"),
                self.phone("M", main=True),
            )
            emails = (
                self.email(f"first.{mis_id}", "H"),
                self.email(f"main.{mis_id}", "W", main=True),
                self.email(f"other.{mis_id}", "H"),
            )
            return evolve(s, telephones=phones, emails=emails)
        if mis_id == "90003":
            return evolve(s, legal_forename=None, preferred_forename=None)
        if mis_id == "90004":
            return evolve(s, legal_surname=None, preferred_surname=None)
        if mis_id == "90005":
            return evolve(s, emails=())
        if mis_id == "90006":
            return evolve(s, leaving_date=self.ay_start + timedelta(days=30))
        if mis_id == "90007":
            return evolve(s, admission_number=None)
        if mis_id == "90008":
            return evolve(s, gender="X")
        if mis_id == "90009":
            allocated = s.date_of_birth.year + 5 if isinstance(s.date_of_birth, date) else self.year
            return evolve(s, upn=self.upn(allocated, temporary=True))
        if mis_id == "90011":
            sen = (
                SourceSen(code="K", start=start, end=self.ay_start - timedelta(days=60)),
                SourceSen(code="E", start=self.ay_start - timedelta(days=59)),
            )
            return evolve(s, sen=sen)
        if mis_id == "90012":
            undated = self.address(None)
            return evolve(s, addresses=(undated, self.address(start)))
        return s  # 90010: the mess is in its memberships

    # -- groups -----------------------------------------------------------------------------
    def link(
        self, group: SourceGroup, person: str, role: Role, start: date, end: date | None
    ) -> None:
        self.memberships.append(
            SourceMembership(
                group_mis_id=group.mis_id,
                group_kind=group.kind,
                person_mis_id=person,
                role=role,
                start=start,
                end=end,
            )
        )

    def make_groups(self, year_groups: Sequence[SourceYearGroup]) -> None:
        teachers = [s.mis_id for s in self.staff] or ["S1000"]
        by_year: dict[int, list[SourceStudent]] = {}
        for s in self.students:
            by_year.setdefault(int(s.year_group or 7), []).append(s)
        houses = [
            SourceGroup(mis_id=f"H{i + 1}", name=h, kind=GroupKind.HOUSE, code=h[:3].upper())
            for i, h in enumerate(names.HOUSES)
        ]
        self.groups.extend(houses)
        tutor = 0
        teacher = 0
        for yg in year_groups:
            nc = int(yg.code or 0)
            pupils = by_year.get(nc, [])
            for s in pupils:
                end = s.leaving_date if isinstance(s.leaving_date, date) else self.ay_end
                self.link(
                    SourceGroup(yg.mis_id, yg.name, GroupKind.YEAR),
                    s.mis_id,
                    Role.STUDENT,
                    self.ay_start,
                    end,
                )
                house = houses[int(s.mis_id) % len(houses)]
                self.link(house, s.mis_id, Role.STUDENT, self.ay_start, end)
            forms = [
                SourceGroup(f"R{nc}{letter}", f"{nc}{letter}", GroupKind.REGISTRATION)
                for letter in "ABCDEFGHJKLM"[: max(1, -(-len(pupils) // 28))]
            ]
            self.groups.extend(forms)
            for form in forms:
                self.link(
                    form, teachers[tutor % len(teachers)], Role.STAFF, self.ay_start, self.ay_end
                )
                tutor += 1
            for i, s in enumerate(pupils):
                form = forms[i % len(forms)]
                end = s.leaving_date if isinstance(s.leaving_date, date) else self.ay_end
                if s.mis_id == "90010" and len(forms) > 1:
                    moved = self.ay_start + timedelta(days=45)
                    self.link(form, s.mis_id, Role.STUDENT, self.ay_start, moved)
                    other = forms[(i + 1) % len(forms)]
                    self.link(other, s.mis_id, Role.STUDENT, moved + timedelta(days=1), end)
                else:
                    self.link(form, s.mis_id, Role.STUDENT, self.ay_start, end)
            subjects = names.MAIN_SUBJECTS if nc <= 11 else names.SIXTH_FORM_SUBJECTS
            size = 25 if nc <= 11 else 14
            for code, subject in subjects:
                takers = (
                    pupils
                    if nc <= 11
                    else [s for s in pupils if (int(s.mis_id) + len(code + subject)) % 3 != 0]
                )
                sets = max(1, -(-len(takers) // size))
                for n in range(sets):
                    group = SourceGroup(
                        mis_id=f"C{nc}{code}{n + 1}",
                        name=f"{nc}{'xy'[n % 2]}/{code}{n + 1}",
                        kind=GroupKind.CLASS,
                        subject=subject,
                    )
                    self.groups.append(group)
                    self.link(
                        group,
                        teachers[teacher % len(teachers)],
                        Role.STAFF,
                        self.ay_start,
                        self.ay_end,
                    )
                    teacher += 1
                    for s in takers[n::sets]:
                        end = s.leaving_date if isinstance(s.leaving_date, date) else self.ay_end
                        self.link(group, s.mis_id, Role.STUDENT, self.ay_start, end)


def sample_school(
    seed: int = 0,
    students: int = 150,
    staff: int = 24,
    academic_year: int = 2026,
    *,
    assessments: bool = False,
) -> SourceSchool:
    """The sample school: ``students`` pupils in Years 7 to 13 and ``staff`` teachers.

    ``students`` includes the messy pupils of :data:`MESSY_CASES` (always present).
    The default academic year is 2026/2027. ``assessments`` adds this autumn's marksheet
    (:data:`ASPECTS` for Years 7 to 11, a few cells left blank); the rest of the school
    is the same with or without it.
    """
    b = _Builder(seed, students, max(staff, 1), academic_year)
    b.make_staff()
    b.make_students()
    years = (
        SourceAcademicYear(
            f"AY{academic_year - 1}",
            f"{academic_year - 1}/{academic_year}",
            date(academic_year - 1, 9, 1),
            date(academic_year, 7, 31),
        ),
        SourceAcademicYear(
            f"AY{academic_year}", f"{academic_year}/{academic_year + 1}", b.ay_start, b.ay_end
        ),
    )
    year_groups = tuple(
        SourceYearGroup(f"YG{nc}", f"Year {nc}", str(nc), b.ay_start, b.ay_end)
        for nc in range(7, 14)
    )
    b.make_groups(year_groups)
    b.make_results()
    b.make_photos()
    return SourceSchool(
        mis_id="SCH4321",
        name="Hollowfield Academy",
        urn="140321",
        laestab="8014321",
        academic_years=years,
        year_groups=year_groups,
        staff=tuple(b.staff),
        students=tuple(b.students),
        groups=tuple(b.groups),
        memberships=tuple(b.memberships),
        photos=tuple(b.photos),
        exam_results=tuple(b.results),
        assessments=tuple(b.make_assessments(seed)) if assessments else (),
    )


def with_new_ids(school: SourceSchool, prefix: str = "N") -> SourceSchool:
    """The same school as another MIS would hold it: every MIS id different, all links kept.

    For the switched-MIS routine: natural keys (UPN, names, dates of birth, group names)
    stay, every identifier the old MIS gave changes.
    """
    from attrs import evolve

    def new(mis_id: str) -> str:
        return f"{prefix}{mis_id}"

    return evolve(
        school,
        mis_id=new(school.mis_id),
        academic_years=tuple(evolve(y, mis_id=new(y.mis_id)) for y in school.academic_years),
        year_groups=tuple(evolve(y, mis_id=new(y.mis_id)) for y in school.year_groups),
        staff=tuple(evolve(s, mis_id=new(s.mis_id)) for s in school.staff),
        students=tuple(evolve(s, mis_id=new(s.mis_id)) for s in school.students),
        groups=tuple(evolve(g, mis_id=new(g.mis_id)) for g in school.groups),
        memberships=tuple(
            evolve(m, group_mis_id=new(m.group_mis_id), person_mis_id=new(m.person_mis_id))
            for m in school.memberships
        ),
        photos=tuple(evolve(p, person_mis_id=new(p.person_mis_id)) for p in school.photos),
        exam_results=tuple(
            evolve(r, student_mis_id=new(r.student_mis_id)) for r in school.exam_results
        ),
        assessments=tuple(
            evolve(a, student_mis_id=new(a.student_mis_id)) for a in school.assessments
        ),
    )
