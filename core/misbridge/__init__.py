"""misbridge: pull roster data out of UK school MIS systems, normalise, validate, sync.

The public API::

    import misbridge
    # the whole job for one school: extract, sync into the store, reports, error hooks
    run = misbridge.run("wonde", settings={...}, store="sqlite:///misbridge.db", out=...)
    run.status, run.exit_code, run.sync, run.errors, run.files

    # or a school of misbridge.toml
    config = misbridge.load_config(Path("misbridge.toml"))
    misbridge.run(config.school("oakfield"))

    # the extract step alone, records in memory
    result = misbridge.extract("wonde", settings={...}, credentials={...})
    result.outcomes, result.errors, result.of(misbridge.Dataset.STUDENTS)

Everything else lives in sub-packages with their own docs: ``misbridge.model`` (the
model), ``misbridge.source`` (what plugins emit), ``misbridge.store``, ``misbridge.vault``,
``misbridge.testing`` (sample school, strategies, conformance suite).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    RunLocked,
    SourceError,
    SourceFormatError,
    SourceUnavailableError,
    StoreError,
    UnknownMisError,
    ValidationFailed,
)
from misbridge.hookspecs import hookimpl
from misbridge.logs import quiet as _quiet

_quiet()

if TYPE_CHECKING:
    from misbridge.hooktypes import ExtractContext, MisInfo, PermissionCheck, Secret
    from misbridge.jobs.config import Config, SchoolConfig, load_config
    from misbridge.jobs.result import RunResult
    from misbridge.jobs.run import run, run_async
    from misbridge.model import Dataset
    from misbridge.pipeline import extract, extract_async
    from misbridge.plugins import get_plugin_manager
    from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus

__all__ = [
    "AuthenticationError",
    "Config",
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
    "RunLocked",
    "RunResult",
    "SchoolConfig",
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
    "load_config",
    "run",
    "run_async",
]

# Imported when first used: ``misbridge --version`` and a plugin's import pay for
# none of the pipeline, the plugin manager or the job (the store, its SQLAlchemy).
_LAZY = {
    "ExtractContext": "misbridge.hooktypes",
    "MisInfo": "misbridge.hooktypes",
    "PermissionCheck": "misbridge.hooktypes",
    "Secret": "misbridge.hooktypes",
    "Dataset": "misbridge.model",
    "extract": "misbridge.pipeline",
    "extract_async": "misbridge.pipeline",
    "get_plugin_manager": "misbridge.plugins",
    "DatasetOutcome": "misbridge.result",
    "ExtractResult": "misbridge.result",
    "OutcomeStatus": "misbridge.result",
    "Config": "misbridge.jobs.config",
    "SchoolConfig": "misbridge.jobs.config",
    "load_config": "misbridge.jobs.config",
    "RunResult": "misbridge.jobs.result",
    "run": "misbridge.jobs.run",
    "run_async": "misbridge.jobs.run",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'misbridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
