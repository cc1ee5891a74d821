"""The processing errors a plan raises: records the store rejects (stage ``processing``).

Every code lives in the shared table of :mod:`misbridge.errorcodes` (and
``docs/error-codes.md``): MB8001 username already in use, MB8002 ambiguous natural-key
match, MB8003 a reference to a person or group the store does not hold, MB8004 a NUL
character, MB1010 a record twice in one extract.
"""

from __future__ import annotations

from typing import Any

from misbridge.errorcodes import make_error
from misbridge.errors import RecordError

__all__ = [
    "AMBIGUOUS",
    "DUPLICATE",
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
    return make_error(
        code, dataset=dataset, mis=mis, mis_id=mis_id, label=label, field=field, **details
    )
