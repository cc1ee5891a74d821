"""The plugin API: everything an MIS plugin imports, and nothing else.

A plugin imports from this module only (and, to run the job, from the library API of
``misbridge`` itself); every other module of the core is the core's own and may change
in any release. An import-linter contract run in CI refuses a first-party plugin that
imports anything else, and ``misbridge plugin new`` generates a package that keeps to it.

The API is versioned: :data:`API_VERSION`. State the version a plugin was written for in
``MisInfo(api=...)``; the core refuses another major version (``misbridge plugins``
says why), and a minor version only adds.

What is here, by what a plugin does with it:

- **declare**: :class:`MisInfo`, :class:`SettingField`, :class:`CredentialField`,
  :class:`FieldCoverage`, :func:`http_settings`, :class:`Dataset`;
- **connect and read**: :class:`MisPlugin` and :class:`Session` (the hooks from one
  session class), :class:`ExtractContext` (settings, typed ``values``, credentials as
  :class:`Secret`, the test ``transport``), :class:`MisHttpClient` and
  :class:`HttpPolicy`, :func:`merge` and :class:`TaskSet`;
- **map**: the source records (:class:`SourceStudent`, :class:`SourceStaff`, ...), the
  model's enums (:class:`GroupKind`, :class:`Role`), and the raw-value readers the
  normaliser itself uses (:func:`parse_date`, :func:`parse_flag`,
  :func:`canonical_type`, :func:`sniff_media_type`, :func:`record_identity`), for a
  plugin that must read a value to decide *what to request*, never to apply a rule;
- **report**: ``context.read(dataset)`` (:class:`DatasetRead`: a vendor total matched,
  a whole document, a delta, its :class:`Checkpoint`, a record problem), the errors
  (:class:`AuthenticationError`, :class:`PermissionDeniedError`, ...), and
  :class:`PermissionCheck` for the pre-flight;
- **simulate and test**: :class:`HttpSimulator`, :class:`LocalSimulator`,
  :class:`Fault`, :func:`sample_school`, and :class:`ConformanceSuite` (imported only
  when a test asks for it: it needs the test extra's pytest and hypothesis);
- **command line**: :func:`mis_command_group` and :func:`fail`, for a plugin that adds
  commands of its own (``MisPlugin(cli=...)``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from misbridge.errors import (
    AuthenticationError,
    ConfigurationError,
    MisbridgeError,
    PermissionDeniedError,
    PluginError,
    RateLimitedError,
    RecordError,
    Severity,
    SourceError,
    SourceFormatError,
    SourceUnavailableError,
)
from misbridge.hookspecs import API_VERSION, hookimpl
from misbridge.hooktypes import (
    CredentialField,
    ExtractContext,
    FieldCoverage,
    MisInfo,
    MisSession,
    PermissionCheck,
    Secret,
    SettingField,
    SimulatedSource,
    Simulator,
)
from misbridge.labels import record_identity
from misbridge.model import DATASET_TYPES, Dataset, GroupKind, Role
from misbridge.normalise.dates import DateParseError, FlagParseError, parse_date, parse_flag
from misbridge.normalise.media import sniff_media_type
from misbridge.normalise.rules import canonical_type
from misbridge.pipeline import prepare_context
from misbridge.reads import Checkpoint, DatasetRead
from misbridge.session import MisPlugin, Session
from misbridge.source import (
    RawDate,
    RawFlag,
    SourceAcademicYear,
    SourceAddress,
    SourceAssessment,
    SourceDeletion,
    SourceEmail,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceRecord,
    SourceSchool,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
)
from misbridge.streams import TaskSet, merge

if TYPE_CHECKING:
    from misbridge.cli_kit import CliState, fail, mis_command_group, state
    from misbridge.convert import dumps_school, loads_school
    from misbridge.credentials import resolve_credentials
    from misbridge.http import HttpPolicy, MisHttpClient, http_settings
    from misbridge.sample import sample_school
    from misbridge.simulation import (
        ASGIApp,
        Fault,
        FaultInjector,
        HttpSimulator,
        LocalSimulator,
        asgi_transport,
        serve_loopback,
    )
    from misbridge.testing.conformance import ConformanceSuite

__all__ = [
    "API_VERSION",
    "DATASET_TYPES",
    "ASGIApp",
    "AuthenticationError",
    "Checkpoint",
    "CliState",
    "ConfigurationError",
    "ConformanceSuite",
    "CredentialField",
    "Dataset",
    "DatasetRead",
    "DateParseError",
    "ExtractContext",
    "Fault",
    "FaultInjector",
    "FieldCoverage",
    "FlagParseError",
    "GroupKind",
    "HttpPolicy",
    "HttpSimulator",
    "LocalSimulator",
    "MisHttpClient",
    "MisInfo",
    "MisPlugin",
    "MisSession",
    "MisbridgeError",
    "PermissionCheck",
    "PermissionDeniedError",
    "PluginError",
    "RateLimitedError",
    "RawDate",
    "RawFlag",
    "RecordError",
    "Role",
    "Secret",
    "Session",
    "SettingField",
    "Severity",
    "SimulatedSource",
    "Simulator",
    "SourceAcademicYear",
    "SourceAddress",
    "SourceAssessment",
    "SourceDeletion",
    "SourceEmail",
    "SourceError",
    "SourceExamResult",
    "SourceFormatError",
    "SourceGroup",
    "SourceMembership",
    "SourcePhoto",
    "SourceRecord",
    "SourceSchool",
    "SourceSen",
    "SourceStaff",
    "SourceStudent",
    "SourceTelephone",
    "SourceUnavailableError",
    "SourceYearGroup",
    "TaskSet",
    "asgi_transport",
    "canonical_type",
    "dumps_school",
    "fail",
    "hookimpl",
    "http_settings",
    "loads_school",
    "merge",
    "mis_command_group",
    "parse_date",
    "parse_flag",
    "prepare_context",
    "record_identity",
    "resolve_credentials",
    "sample_school",
    "serve_loopback",
    "sniff_media_type",
    "state",
]


#: Imported on first use, so that a process needing only the plugin's description (a
#: stand-in program started once per report) does not pay for HTTP, CLI or simulators.
_LAZY: dict[str, str] = {
    "CliState": "misbridge.cli_kit",
    "fail": "misbridge.cli_kit",
    "mis_command_group": "misbridge.cli_kit",
    "state": "misbridge.cli_kit",
    "dumps_school": "misbridge.convert",
    "loads_school": "misbridge.convert",
    "resolve_credentials": "misbridge.credentials",
    "HttpPolicy": "misbridge.http",
    "MisHttpClient": "misbridge.http",
    "http_settings": "misbridge.http",
    "sample_school": "misbridge.sample",
    "ASGIApp": "misbridge.simulation",
    "Fault": "misbridge.simulation",
    "FaultInjector": "misbridge.simulation",
    "HttpSimulator": "misbridge.simulation",
    "LocalSimulator": "misbridge.simulation",
    "asgi_transport": "misbridge.simulation",
    "serve_loopback": "misbridge.simulation",
    # The conformance kit needs pytest and hypothesis (the test extra): only a plugin's
    # tests ask for it; shipped code never does.
    "ConformanceSuite": "misbridge.testing.conformance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'misbridge.plugin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
