"""The shared validator: required fields per profile, UPN, DfE code sets, dates.

::

    from misbridge.validate import Validator
    v = Validator("account-sync", mis="sims")
    errors = v.validate(Dataset.STUDENTS, student)      # every problem of the record
    errors += v.check_batch(Dataset.STUDENTS, students)  # duplicate UPNs / MIS ids

The error code table (:mod:`misbridge.errorcodes`) is shared with the normaliser
and the store; ``docs/error-codes.md`` lists it.
"""

from __future__ import annotations

from misbridge.errorcodes import CODES, ErrorCode, make_error, mis_title
from misbridge.labels import record_identity
from misbridge.validate.codesets import SEN_CODES, EthnicityCodes, ethnicity_codes
from misbridge.validate.profiles import PROFILES, Profile, get_profile
from misbridge.validate.upn import upn_check_letter, upn_problem
from misbridge.validate.validator import BatchChecker, Validator, email_ok

__all__ = [
    "CODES",
    "PROFILES",
    "SEN_CODES",
    "BatchChecker",
    "ErrorCode",
    "EthnicityCodes",
    "Profile",
    "Validator",
    "email_ok",
    "ethnicity_codes",
    "get_profile",
    "make_error",
    "mis_title",
    "record_identity",
    "upn_check_letter",
    "upn_problem",
]
