"""misbridge plugin for Arbor (cloud MIS): REST + GraphQL, with a faithful simulator.

The hooks come from the session (``session``); the client (``client``), the readers
(``reader``), the mapping (``mapping``), what each dataset reads (``extract``) and the
simulator (``simulator``) live in their own modules; the command line is the standard
one. See ``docs/plugins/arbor.md``.
"""

from __future__ import annotations

from misbridge.plugin import Dataset, MisInfo, MisPlugin
from misbridge_arbor.session import ArborSession
from misbridge_arbor.settings import CREDENTIALS, SETTINGS
from misbridge_arbor.simulator import ArborSimulator

__all__ = ["INFO", "plugin"]

INFO = MisInfo(
    name="arbor",
    title="Arbor",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # Every dataset but assessments, which this plugin does not read (yet).
    datasets=tuple(d for d in Dataset if d is not Dataset.ASSESSMENTS),
    simulator=ArborSimulator,
    docs_url="docs/plugins/arbor.md",
    school_setting="subdomain",
    api="1.0",
)

#: The entry point (``arbor = "misbridge_arbor:plugin"``): every hook, from the session.
plugin = MisPlugin(INFO, ArborSession)
