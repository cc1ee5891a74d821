"""What the hub refuses, each with the HTTP status the API answers with.

Every message says what was refused and what to do, and never holds a secret (a
token, a key, a code) or a personal value.
"""

from __future__ import annotations

from typing import Any, ClassVar

from misbridge.errors import MisbridgeError

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "HubError",
    "NotFound",
    "TooLarge",
    "Unauthorized",
]


class HubError(MisbridgeError):
    """A request the hub refuses; ``status`` is its HTTP status, ``code`` a stable name."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message, **context)

    #: Context worth a machine's reading (a worker's: ask again when, the request's state).
    EXPOSED: ClassVar[tuple[str, ...]] = ("state", "retry_after")

    def as_dict(self) -> dict[str, Any]:
        extra = {k: self.context[k] for k in self.EXPOSED if k in self.context}
        return {"error": self.code, "message": self.message, **extra}


class BadRequest(HubError):
    status = 400
    code = "bad-request"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class Forbidden(HubError):
    status = 403
    code = "forbidden"


class NotFound(HubError):
    status = 404
    code = "not-found"


class Conflict(HubError):
    status = 409
    code = "conflict"


class Gone(HubError):
    status = 410
    code = "gone"


class TooLarge(HubError):
    status = 413
    code = "too-large"
