"""The shared validator: required fields per profile, UPN, DfE code sets, dates.

The error code table (:mod:`misbridge.validate.codes`) is shared with the normaliser
and the store.
"""

from __future__ import annotations

from misbridge.validate.codes import CODES, ErrorCode, make_error, mis_title
from misbridge.validate.labels import record_identity

__all__ = ["CODES", "ErrorCode", "make_error", "mis_title", "record_identity"]
