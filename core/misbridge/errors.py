"""Exceptions and per-record errors.

Our exception hierarchy::

    MisbridgeError                      everything misbridge raises
    ├── ConfigurationError              a setting is missing or wrong; fix the configuration
    ├── PluginError                     a plugin could not be loaded or broke its contract
    │   └── UnknownMisError             no installed plugin serves that MIS name
    ├── SourceError                     talking to an MIS failed
    │   ├── AuthenticationError         the MIS refused the credentials
    │   ├── PermissionDeniedError       the account lacks permissions (``.missing`` lists them)
    │   ├── SourceUnavailableError      the MIS could not be reached or answered with a fault
    │   │   └── RateLimitedError        the MIS throttled us longer than we may wait
    │   └── SourceFormatError           the MIS answered with something we cannot read
    ├── ValidationFailed                a whole record set was rejected (``.errors``)
    ├── StoreError                      the target store refused an operation
    │   └── GuardRefused                a sync plan broke a safety guard and was not applied
    └── RunLocked                       another run of the same school is under way

Messages never carry a secret (password, token, key) nor a pupil's personal data
beyond the identifiers needed to find the record; ``context`` holds structured facts
(MIS, dataset, URL path, attempt) for logs and reports.

Per-record problems are not exceptions: they are :class:`RecordError` values collected
by the pipeline so that the run goes on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "GuardRefused",
    "MisbridgeError",
    "PermissionDeniedError",
    "PluginError",
    "RateLimitedError",
    "RecordError",
    "RunLocked",
    "Severity",
    "SourceError",
    "SourceFormatError",
    "SourceUnavailableError",
    "Stage",
    "StoreError",
    "UnknownMisError",
    "ValidationFailed",
]


class MisbridgeError(Exception):
    """Root of every exception misbridge raises."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = dict(context)

    def __str__(self) -> str:
        return self.message


class ConfigurationError(MisbridgeError):
    """A setting is missing or invalid."""


class PluginError(MisbridgeError):
    """A plugin could not be loaded, or broke the hook contract."""


class UnknownMisError(PluginError):
    """No installed plugin serves the MIS name asked for."""


class SourceError(MisbridgeError):
    """Talking to the MIS failed."""


class AuthenticationError(SourceError):
    """The MIS refused the credentials."""


class PermissionDeniedError(SourceError):
    """The MIS account lacks permissions; ``missing`` names each one."""

    def __init__(self, message: str, missing: Iterable[str] = (), **context: Any) -> None:
        super().__init__(message, **context)
        self.missing: tuple[str, ...] = tuple(missing)


class SourceUnavailableError(SourceError):
    """The MIS could not be reached, or answered with a server fault."""


class RateLimitedError(SourceUnavailableError):
    """The MIS asked us to wait longer than the configured limit allows."""

    def __init__(self, message: str, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class SourceFormatError(SourceError):
    """The MIS answered with something that is not what its format promises."""


class ValidationFailed(MisbridgeError):
    """A set of records was rejected as a whole; ``errors`` holds every reason."""

    def __init__(self, message: str, errors: Iterable[RecordError] = (), **context: Any) -> None:
        super().__init__(message, **context)
        self.errors: tuple[RecordError, ...] = tuple(errors)


class StoreError(MisbridgeError):
    """The target store refused an operation."""


class GuardRefused(StoreError):
    """A sync plan broke a safety guard; nothing was applied."""


class RunLocked(MisbridgeError):
    """Another run of the same school holds its lock; ``holder`` says who and since when."""

    def __init__(self, message: str, holder: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder: dict[str, Any] = dict(holder or {})


class Stage(enum.StrEnum):
    """Where a record error was found (on site while extracting, or later while processing)."""

    ON_SITE = "on-site"  # found while extracting and validating
    PROCESSING = "processing"  # rejected by the store, e.g. username already in use


class Severity(enum.StrEnum):
    ERROR = "error"  # the record is not imported
    WARNING = "warning"  # the record is imported; the data manager should look


@frozen
class RecordError:
    """One problem with one record.

    ``code`` is stable and documented in ``docs/error-codes.md``; ``message`` tells a
    data manager what to fix and where. Neither holds secrets, nor personal data other
    than the identifiers that find the record (``mis_id``, ``record_label``).
    """

    dataset: str
    mis_id: str | None
    field: str | None
    code: str
    message: str
    stage: Stage = Stage.ON_SITE
    severity: Severity = Severity.ERROR
    record_label: str | None = None  # e.g. "admission number 001234"
    mis: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "mis": self.mis,
            "mis_id": self.mis_id,
            "record_label": self.record_label,
            "field": self.field,
            "code": self.code,
            "severity": self.severity.value,
            "stage": self.stage.value,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordError:
        return cls(
            dataset=data["dataset"],
            mis_id=data.get("mis_id"),
            field=data.get("field"),
            code=data["code"],
            message=data["message"],
            stage=Stage(data.get("stage", Stage.ON_SITE.value)),
            severity=Severity(data.get("severity", Severity.ERROR.value)),
            record_label=data.get("record_label"),
            mis=data.get("mis"),
        )
