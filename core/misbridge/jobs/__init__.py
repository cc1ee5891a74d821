"""The one run: :func:`misbridge.run` and what it needs (configuration, lock, result)."""

from __future__ import annotations

from misbridge.jobs.config import Config, Schedule, SchoolConfig, load_config, parse_config
from misbridge.jobs.result import RunResult
from misbridge.jobs.run import run, run_async

__all__ = [
    "Config",
    "RunResult",
    "Schedule",
    "SchoolConfig",
    "load_config",
    "parse_config",
    "run",
    "run_async",
]
