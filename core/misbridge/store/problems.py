"""The processing errors a plan raises: records the store rejects (stage ``processing``).

Codes come from the shared table in :mod:`misbridge.validate.codes` (``MB8001``,
username already in use; ``MB1010``, a duplicated record). The store's own codes below
are used until that table carries them; the shared table wins once it does.
"""

from __future__ import annotations

from typing import Any

from misbridge.errors import RecordError, Severity, Stage
from misbridge.validate.codes import CODES, ErrorCode, make_error, mis_title

__all__ = [
    "AMBIGUOUS",
    "DUPLICATE",
    "STORE_CODES",
    "UNKNOWN_REFERENCE",
    "UNSTORABLE",
    "USERNAME_IN_USE",
    "error",
]

USERNAME_IN_USE = "MB8001"
AMBIGUOUS = "MB8002"
UNKNOWN_REFERENCE = "MB8003"
UNSTORABLE = "MB8004"
DUPLICATE = "MB1010"

STORE_CODES: dict[str, ErrorCode] = {
    AMBIGUOUS: ErrorCode(
        AMBIGUOUS,
        "mis_id",
        "A record with a new MIS id matches several records already in the store by its "
        "natural key, so the store cannot tell which one it is.",
        "Make the records distinguishable in the MIS (UPN, date of birth, work email), "
        "then sync again.",
        "{label} from {mis} matches {count} records already in the store by {key}: it was "
        "not imported rather than guessed; make them distinguishable in {mis} and sync again",
        stage=Stage.PROCESSING,
    ),
    UNKNOWN_REFERENCE: ErrorCode(
        UNKNOWN_REFERENCE,
        "(a reference)",
        "A membership, photo or exam result points at a person or group the store does not hold.",
        "Extract the person or group too (or fix its record in the MIS), then sync again.",
        "{label} from {mis} points at a {what} the store does not hold: it was not "
        "imported; extract that {what} too and sync again",
        stage=Stage.PROCESSING,
    ),
    UNSTORABLE: ErrorCode(
        UNSTORABLE,
        "(a text field)",
        "A value holds a NUL character (code 0), which databases cannot store.",
        "Retype the value in the MIS (it was probably pasted from another program).",
        "A value of {label} from {mis} holds an invisible NUL character that cannot be "
        "stored: the record was not imported; retype the value in {mis}",
        stage=Stage.PROCESSING,
    ),
}


def error(
    code: str,
    *,
    dataset: str,
    mis: str,
    mis_id: str | None,
    label: str,
    field: str | None = None,
    **details: Any,
) -> RecordError:
    if code in CODES:
        return make_error(
            code, dataset=dataset, mis=mis, mis_id=mis_id, label=label, field=field, **details
        )
    spec = STORE_CODES[code]
    message = spec.template.format(mis=mis_title(mis), label=label, **details)
    return RecordError(
        dataset=dataset,
        mis_id=mis_id,
        field=field if field is not None else spec.field,
        code=code,
        message=message[:1].upper() + message[1:],
        stage=spec.stage,
        severity=Severity.ERROR,
        record_label=label,
        mis=mis,
    )
