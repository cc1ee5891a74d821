"""misbridge: pull roster data out of UK school MIS systems, normalise, validate, sync."""

from __future__ import annotations

from misbridge._version import __version__
from misbridge.errors import (
    AuthenticationError,
    ConfigurationError,
    GuardRefused,
    MisbridgeError,
    PermissionDeniedError,
    PluginError,
    RateLimitedError,
    RecordError,
    SourceError,
    SourceFormatError,
    SourceUnavailableError,
    StoreError,
    UnknownMisError,
    ValidationFailed,
)
from misbridge.hookspecs import hookimpl
from misbridge.hooktypes import ExtractContext, MisInfo, PermissionCheck, Secret

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "ExtractContext",
    "GuardRefused",
    "MisInfo",
    "MisbridgeError",
    "PermissionCheck",
    "PermissionDeniedError",
    "PluginError",
    "RateLimitedError",
    "RecordError",
    "Secret",
    "SourceError",
    "SourceFormatError",
    "SourceUnavailableError",
    "StoreError",
    "UnknownMisError",
    "ValidationFailed",
    "__version__",
    "hookimpl",
]
