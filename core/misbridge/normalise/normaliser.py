"""Source records -> model records, applying the seed's rules once for every MIS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import attrs

from misbridge.errors import RecordError, Severity
from misbridge.model import (
    DELETABLE,
    AcademicYear,
    Address,
    Assessment,
    Dataset,
    Deletion,
    EmailPreference,
    ExamResult,
    Group,
    Membership,
    Photo,
    SenStatus,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.normalise.dates import DateParseError, FlagParseError, parse_date, parse_flag
from misbridge.normalise.grades import grade_type
from misbridge.normalise.rules import (
    CONTACT_TYPES,
    YEAR_CODES,
    canonical_type,
    choose_flagged,
    choose_home_address,
    clean_code,
    clean_text,
    email_preference,
    match_gender,
    sen_code,
    year_group_code,
)
from misbridge.normalise.settings import NormaliseSettings, UsernamePolicy
from misbridge.result import ModelRecord
from misbridge.source import (
    SourceAcademicYear,
    SourceAddress,
    SourceAssessment,
    SourceDeletion,
    SourceEmail,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceRecord,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)
from misbridge.validate.codes import make_error, mis_title
from misbridge.validate.labels import record_identity

__all__ = ["Normalised", "Normaliser", "sniff_media_type"]

Normalised = tuple[ModelRecord | Deletion | None, list[RecordError]]

#: Most distinct date texts a Normaliser remembers (a few hundred KB at most).
_CACHE_LIMIT = 50_000
_TYPE = CONTACT_TYPES
_YEAR = YEAR_CODES
_PERSONAL = EmailPreference.PERSONAL

# The student hot path calls Student positionally; fail at import, not silently, if the
# model's field order ever changes.
_STUDENT_FIELDS = (
    "mis_id",
    "admission_number",
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "gender",
    "date_of_birth",
    "ethnicity",
    "eal",
    "fsm",
    "pupil_premium",
    "service_child",
    "sen",
    "year_group",
    "admission_date",
    "leaving_date",
    "home_address",
    "home_telephone",
    "mobile_telephone",
    "personal_email",
    "work_email",
    "email_preference",
    "username",
)
if tuple(a.name for a in attrs.fields(Student)) != _STUDENT_FIELDS:  # pragma: no cover
    raise ImportError("misbridge.model.Student changed: update Normaliser._student")


def sniff_media_type(data: bytes) -> str | None:
    """The image type from the file's own signature (MIS media types are unreliable)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


class Normaliser:
    """Turns one MIS's source records into model records.

    ``normalise`` returns ``(record, errors)``: ``record`` is ``None`` only when no model
    record can be built (a mandatory value is missing or unreadable); otherwise the
    errors name the fields that had to be left out.
    """

    def __init__(
        self,
        settings: NormaliseSettings | None = None,
        *,
        mis: str | None = None,
        mis_title: str | None = None,
    ) -> None:
        self.settings = settings or NormaliseSettings()
        self.mis = mis
        self._title = mis_title
        self._genders = self.settings.genders
        self._by_directory = self.settings.username_policy is UsernamePolicy.DIRECTORY
        self._dates: dict[str, date] = {}
        self._sen_cache: dict[tuple[object, object, object] | None, SenStatus] = {}
        # The configured genders under the spellings MIS send most (as given, upper,
        # lower, title case), so that the common case is one dict lookup.
        self._fast_genders: dict[str, str] = {}
        for key, name in self._genders.items():
            for spelling in (key, key.upper(), key.lower(), key.title(), name):
                self._fast_genders.setdefault(spelling, name)
        self._dispatch: dict[type, Callable[[Any, str], Normalised]] = {
            SourceStudent: self._student,
            SourceStaff: self._staff,
            SourceGroup: self._group,
            SourceMembership: self._membership,
            SourceAcademicYear: self._academic_year,
            SourceYearGroup: self._year_group,
            SourcePhoto: self._photo,
            SourceExamResult: self._exam_result,
            SourceAssessment: self._assessment,
            SourceDeletion: self._deletion,
        }

    def normalise(self, dataset: Dataset | str, record: SourceRecord) -> Normalised:
        handler = self._dispatch.get(type(record))
        if handler is None:
            raise TypeError(f"not a source record: {type(record).__name__}")
        return handler(record, str(dataset))

    # -- error helpers -------------------------------------------------------------

    def _error(
        self,
        code: str,
        record: object,
        dataset: str,
        field: str | None = None,
        severity: Severity | None = None,
        **details: object,
    ) -> RecordError:
        mis_id, label = record_identity(record)
        return make_error(
            code,
            dataset=dataset,
            mis=self.mis,
            mis_id=mis_id,
            label=label,
            field=field,
            title=self._title or mis_title(self.mis),
            severity=severity,
            **details,
        )

    def _date(
        self,
        value: object,
        record: object,
        dataset: str,
        field: str,
        what: str,
        errors: list[RecordError],
    ) -> date | None:
        if value is None or type(value) is date:
            return value
        # Dates repeat a great deal within a school (admission days, birthdays), and
        # string parsing is the costly part: remember each text's date for this run.
        key = value if type(value) is str else None
        if key is None and type(value) is dict:
            key = value.get("date")
        if type(key) is str:
            known = self._dates.get(key)
            if known is not None:
                return known
        try:
            parsed = parse_date(value)
        except DateParseError:
            errors.append(self._error("MB3001", record, dataset, field, what=what))
            return None
        if parsed is not None and type(key) is str and len(self._dates) < _CACHE_LIMIT:
            self._dates[key] = parsed
        return parsed

    def _flag(
        self, value: object, record: object, dataset: str, field: str, errors: list[RecordError]
    ) -> bool | None:
        if value is None or value is True or value is False:
            return value
        try:
            return parse_flag(value)
        except FlagParseError:
            what = field.replace("_", " ").upper() if len(field) <= 3 else field.replace("_", " ")
            errors.append(self._error("MB4040", record, dataset, field, what=what))
            return None

    def _gender(
        self, value: str | None, record: object, dataset: str, errors: list[RecordError]
    ) -> str | None:
        gender, recognised = match_gender(value, self._genders)
        if not recognised:
            errors.append(self._error("MB4001", record, dataset))
        return gender

    def _no_id(self, record: object, dataset: str, what: str) -> Normalised:
        return None, [self._error("MB1001", record, dataset, what=what)]

    # -- students ------------------------------------------------------------------

    def _student(self, r: SourceStudent, dataset: str) -> Normalised:
        # The hot path (>= 50,000 records/s is the goal): cheap exact-match lookups
        # first, the general rule functions only for values that miss them.
        mis_id = r.mis_id.strip() if r.mis_id else None
        if not mis_id:
            return self._no_id(r, dataset, "student")
        errors: list[RecordError] = []
        d = self._date
        flag = self._flag
        home_phones: list[SourceTelephone] = []
        mobiles: list[SourceTelephone] = []
        for phone in r.telephones:
            kind = _TYPE.get(phone.type) or canonical_type(phone.type)  # type: ignore[arg-type]
            if kind == "H" or kind == "M":
                number = phone.number
                if number and not number.isspace():
                    (home_phones if kind == "H" else mobiles).append(phone)
        emails: list[SourceEmail] = []
        personal: list[SourceEmail] = []
        work: list[SourceEmail] = []
        for email in r.emails:
            address = email.address
            if address and not address.isspace():
                emails.append(email)
                kind = _TYPE.get(email.type) or canonical_type(email.type)  # type: ignore[arg-type]
                if kind == "H":
                    personal.append(email)
                elif kind == "W":
                    work.append(email)
        home_phone = choose_flagged(home_phones) if home_phones else None
        mobile = choose_flagged(mobiles) if mobiles else None
        chosen_personal = choose_flagged(personal) if personal else None
        chosen_work = choose_flagged(work) if work else None
        personal_email = chosen_personal.address.strip() if chosen_personal else None
        work_email = chosen_work.address.strip() if chosen_work else None
        admission = r.admission_number.strip() or None if r.admission_number else None
        if self._by_directory:
            directory = r.directory_username
            chosen = directory.strip() or None if directory else None
        else:
            chosen = admission
        year_group = None
        raw_year = r.year_group
        if raw_year is not None:
            year_group = _YEAR.get(raw_year) or year_group_code(raw_year)
            if year_group is None and not raw_year.isspace() and raw_year:
                errors.append(self._error("MB4030", r, dataset))
        gender = r.gender
        if gender is not None:
            gender = self._fast_genders.get(gender) or self._gender(gender, r, dataset, errors)
        dob = r.date_of_birth
        if dob is not None and type(dob) is not date:
            dob = d(dob, r, dataset, "date_of_birth", "date of birth", errors)
        admitted = r.admission_date
        if admitted is not None and type(admitted) is not date:
            admitted = d(admitted, r, dataset, "admission_date", "admission date", errors)
        left = r.leaving_date
        if left is not None and type(left) is not date:
            left = d(left, r, dataset, "leaving_date", "leaving date", errors)
        eal, fsm, premium, service = r.eal, r.fsm, r.pupil_premium, r.service_child
        if not (eal is None or eal is True or eal is False):
            eal = flag(eal, r, dataset, "eal", errors)
        if not (fsm is None or fsm is True or fsm is False):
            fsm = flag(fsm, r, dataset, "fsm", errors)
        if not (premium is None or premium is True or premium is False):
            premium = flag(premium, r, dataset, "pupil_premium", errors)
        if not (service is None or service is True or service is False):
            service = flag(service, r, dataset, "service_child", errors)
        # Positional, in the field order checked at import (_STUDENT_FIELDS): a keyword
        # call of 25 fields costs a fifth of the whole record's budget.
        student = Student(
            mis_id,  # mis_id
            admission,  # admission_number
            clean_code(r.upn) if r.upn is not None else None,  # upn
            clean_text(r.legal_forename),  # legal_forename
            clean_text(r.legal_surname),  # legal_surname
            clean_text(r.preferred_forename),  # preferred_forename
            clean_text(r.preferred_surname),  # preferred_surname
            gender,  # gender
            dob,  # date_of_birth
            clean_code(r.ethnicity) if r.ethnicity is not None else None,  # ethnicity
            eal,  # eal
            fsm,  # fsm
            premium,  # pupil_premium
            service,  # service_child
            self._sen(r, dataset, errors) if r.sen else (),  # sen
            year_group,  # year_group
            admitted,  # admission_date
            left,  # leaving_date
            self._home_address(r, dataset, errors) if r.addresses else None,  # home_address
            " ".join(home_phone.number.split()) if home_phone else None,  # home_telephone
            " ".join(mobile.number.split()) if mobile else None,  # mobile_telephone
            personal_email,  # personal_email
            work_email,  # work_email
            email_preference(emails) if emails else _PERSONAL,  # email_preference
            chosen or personal_email or work_email,  # username
        )
        return student, errors

    def _sen(
        self, r: SourceStudent, dataset: str, errors: list[RecordError]
    ) -> tuple[SenStatus, ...]:
        out: list[SenStatus] = []
        cache = self._sen_cache
        for entry in r.sen:
            # Entries repeat across pupils (code N from the admission day): share them.
            key: tuple[object, object, object] | None = (entry.code, entry.start, entry.end)
            try:
                known = cache.get(key)
            except TypeError:  # an unhashable raw date (a vendor's date object)
                known, key = None, None
            if known is not None:
                out.append(known)
                continue
            code = sen_code(entry.code)
            if code is None:
                errors.append(self._error("MB4021", r, dataset))
                continue
            before = len(errors)
            start = self._date(entry.start, r, dataset, "sen", "SEN provision start date", errors)
            end = self._date(entry.end, r, dataset, "sen", "SEN provision end date", errors)
            status = SenStatus(code=code, start=start, end=end)
            if key is not None and len(errors) == before and len(cache) < _CACHE_LIMIT:
                cache[key] = status
            out.append(status)
        return tuple(out)

    def _home_address(
        self, r: SourceStudent, dataset: str, errors: list[RecordError]
    ) -> Address | None:
        first: SourceAddress | None = None
        others: list[SourceAddress] = []
        for address in r.addresses:
            if (_TYPE.get(address.type) or canonical_type(address.type)) != "H":  # type: ignore[arg-type]
                continue
            postcode = address.postcode
            if not (postcode and not postcode.isspace()) and not any(map(str.strip, address.lines)):
                continue  # a blank entry is no address at all
            if first is None:
                first = address
            else:
                others.append(address)
        if first is None:
            return None
        chosen = first
        if others:
            # Start dates matter only when there is a choice to make, so only then are
            # they read (and an unreadable one reported).
            what = "home address start date"
            chosen = (
                choose_home_address(
                    [
                        (a, self._date(a.start, r, dataset, "home_address", what, errors))
                        for a in (first, *others)
                    ]
                )
                or first
            )
        postcode = clean_text(chosen.postcode)
        return Address(
            lines=tuple(filter(None, map(clean_text, chosen.lines))),
            postcode=postcode.upper() if postcode else None,
        )

    # -- staff ---------------------------------------------------------------------

    def _staff(self, r: SourceStaff, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "staff member")
        errors: list[RecordError] = []
        emails = [e for e in r.emails if e.address and e.address.strip()]
        work = [e for e in emails if canonical_type(e.type) == "W"]
        chosen = choose_flagged(work or emails)
        staff = StaffMember(
            mis_id=mis_id,
            title=clean_text(r.title),
            forename=clean_text(r.forename),
            surname=clean_text(r.surname),
            gender=self._gender(r.gender, r, dataset, errors) if r.gender is not None else None,
            work_email=chosen.address.strip() if chosen else None,
            staff_code=_strip(r.staff_code),
        )
        return staff, errors

    # -- groups, years, photos, exam results --------------------------------------

    def _group(self, r: SourceGroup, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "group")
        name = clean_text(r.name)
        if name is None:
            return None, [self._error("MB2003", r, dataset, "name", what="name")]
        group = Group(
            mis_id=mis_id,
            name=name,
            kind=r.kind,
            subject=clean_text(r.subject),
            code=clean_text(r.code),
        )
        return group, []

    def _membership(self, r: SourceMembership, dataset: str) -> Normalised:
        group_id, person_id = _strip(r.group_mis_id), _strip(r.person_mis_id)
        if group_id is None or person_id is None:
            return self._no_id(r, dataset, "group membership")
        errors: list[RecordError] = []
        membership = Membership(
            group_mis_id=group_id,
            group_kind=r.group_kind,
            person_mis_id=person_id,
            role=r.role,
            start=self._date(r.start, r, dataset, "start", "membership start date", errors),
            end=self._date(r.end, r, dataset, "end", "membership end date", errors),
        )
        return membership, errors

    def _deletion(self, r: SourceDeletion, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "deleted record")
        if r.record not in DELETABLE or (r.record == "Group") != (r.group_kind is not None):
            # A plugin bug, not a data problem: say so loudly rather than guess.
            raise TypeError(
                f"a deletion must name one of {sorted(DELETABLE)} (with group_kind for a "
                f"Group only), not {r.record!r}"
            )
        return Deletion(r.record, mis_id, r.group_kind), []

    def _required_date(
        self, value: object, r: object, dataset: str, field: str, what: str
    ) -> date | RecordError:
        try:
            parsed = parse_date(value)
        except DateParseError:
            parsed = None
        if parsed is None:
            return self._error("MB3002", r, dataset, field, what=what)
        return parsed

    def _academic_year(self, r: SourceAcademicYear, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "academic year")
        errors: list[RecordError] = []
        name = clean_text(r.name)
        if name is None:
            errors.append(self._error("MB2003", r, dataset, "name", what="name"))
        start = self._required_date(r.start, r, dataset, "start", "academic year start date")
        end = self._required_date(r.end, r, dataset, "end", "academic year end date")
        errors.extend(x for x in (start, end) if isinstance(x, RecordError))
        if errors or name is None or not isinstance(start, date) or not isinstance(end, date):
            return None, errors
        return AcademicYear(mis_id=mis_id, name=name, start=start, end=end), []

    def _year_group(self, r: SourceYearGroup, dataset: str) -> Normalised:
        mis_id = _strip(r.mis_id)
        if mis_id is None:
            return self._no_id(r, dataset, "year group")
        name = clean_text(r.name)
        code = year_group_code(r.code) if r.code and r.code.strip() else year_group_code(name)
        errors: list[RecordError] = []
        if name is None:
            errors.append(self._error("MB2003", r, dataset, "name", what="name"))
        if code is None:
            # Without its NC year a year group cannot be built: this one is an error.
            errors.append(self._error("MB4030", r, dataset, "code", Severity.ERROR))
        if name is None or code is None:
            return None, errors
        start = self._date(r.start, r, dataset, "start", "year group start date", errors)
        end = self._date(r.end, r, dataset, "end", "year group end date", errors)
        return YearGroup(mis_id=mis_id, name=name, code=code, start=start, end=end), errors

    def _photo(self, r: SourcePhoto, dataset: str) -> Normalised:
        person = _strip(r.person_mis_id)
        if person is None:
            return self._no_id(r, dataset, "photo")
        media_type = sniff_media_type(r.data)
        if media_type is None:
            return None, [self._error("MB6001", r, dataset)]
        return Photo(person_mis_id=person, role=r.role, media_type=media_type, data=r.data), []

    def _exam_result(self, r: SourceExamResult, dataset: str) -> Normalised:
        student = _strip(r.student_mis_id)
        if student is None:
            return self._no_id(r, dataset, "exam result")
        values = {
            "series": clean_text(r.series),
            "qualification": clean_text(r.qualification),
            "subject": clean_text(r.subject),
            "grade": clean_text(r.grade),
        }
        missing = [k for k, v in values.items() if v is None]
        if missing:
            return None, [self._error("MB2003", r, dataset, k, what=k) for k in missing]
        errors: list[RecordError] = []
        result_date = self._date(r.result_date, r, dataset, "result_date", "result date", errors)
        return (
            ExamResult(
                student_mis_id=student,
                series=values["series"] or "",
                qualification=values["qualification"] or "",
                subject=values["subject"] or "",
                grade=values["grade"] or "",
                result_date=result_date,
            ),
            errors,
        )

    def _assessment(self, r: SourceAssessment, dataset: str) -> Normalised:
        student = _strip(r.student_mis_id)
        if student is None:
            return self._no_id(r, dataset, "assessment result")
        aspect, result = clean_text(r.aspect), clean_text(r.result)
        if aspect is None or result is None:
            missing = [k for k, v in (("aspect", aspect), ("result", result)) if v is None]
            return None, [self._error("MB2003", r, dataset, k, what=k) for k in missing]
        errors: list[RecordError] = []
        when = self._date(r.result_date, r, dataset, "result_date", "assessment date", errors)
        return (
            Assessment(
                student_mis_id=student,
                aspect=aspect,
                result=result,
                grade_type=grade_type(r.grade_type),
                subject=clean_text(r.subject),
                term=clean_text(r.term),
                result_date=when,
            ),
            errors,
        )
