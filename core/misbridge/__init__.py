"""misbridge: pull roster data out of UK school MIS systems, normalise, validate, sync.

The public API::

    import misbridge
    result = misbridge.extract("wonde", settings={...}, credentials={...})
    result.outcomes, result.errors, result.of(misbridge.Dataset.STUDENTS)

Everything else lives in sub-packages with their own docs: ``misbridge.model`` (the
model), ``misbridge.source`` (what plugins emit), ``misbridge.store``, ``misbridge.vault``,
``misbridge.testing`` (sample school, strategies, conformance suite).
"""

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
from misbridge.model import Dataset
from misbridge.pipeline import extract, extract_async
from misbridge.plugins import get_plugin_manager
from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Dataset",
    "DatasetOutcome",
    "ExtractContext",
    "ExtractResult",
    "GuardRefused",
    "MisInfo",
    "MisbridgeError",
    "OutcomeStatus",
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
    "extract",
    "extract_async",
    "get_plugin_manager",
    "hookimpl",
]
