"""The student rules: contacts chosen, codes mapped, dates and flags read."""

from __future__ import annotations

from datetime import date

from misbridge.errors import RecordError
from misbridge.model import (
    Address,
    EmailPreference,
    SenStatus,
    Student,
)
from misbridge.normalise.base import _CACHE_LIMIT, Normalised, NormaliserBase
from misbridge.normalise.rules import (
    CONTACT_TYPES,
    YEAR_CODES,
    canonical_type,
    choose_flagged,
    choose_home_address,
    clean_code,
    clean_text,
    email_preference,
    sen_code,
    year_group_code,
)
from misbridge.source import (
    SourceAddress,
    SourceEmail,
    SourceStudent,
    SourceTelephone,
)

__all__ = ["StudentRules"]

_TYPE = CONTACT_TYPES
_YEAR = YEAR_CODES
_PERSONAL = EmailPreference.PERSONAL


class StudentRules(NormaliserBase):
    """Students: the hot path."""

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
        # Keywords: a field renamed or added in the model fails here, loudly.
        student = Student(
            mis_id=mis_id,
            admission_number=admission,
            upn=clean_code(r.upn) if r.upn is not None else None,
            legal_forename=clean_text(r.legal_forename),
            legal_surname=clean_text(r.legal_surname),
            preferred_forename=clean_text(r.preferred_forename),
            preferred_surname=clean_text(r.preferred_surname),
            gender=gender,
            date_of_birth=dob,
            ethnicity=clean_code(r.ethnicity) if r.ethnicity is not None else None,
            eal=eal,
            fsm=fsm,
            pupil_premium=premium,
            service_child=service,
            sen=self._sen(r, dataset, errors) if r.sen else (),
            year_group=year_group,
            admission_date=admitted,
            leaving_date=left,
            home_address=self._home_address(r, dataset, errors) if r.addresses else None,
            home_telephone=" ".join(home_phone.number.split()) if home_phone else None,
            mobile_telephone=" ".join(mobile.number.split()) if mobile else None,
            personal_email=personal_email,
            work_email=work_email,
            email_preference=email_preference(emails) if emails else _PERSONAL,
            username=chosen or personal_email or work_email,
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
