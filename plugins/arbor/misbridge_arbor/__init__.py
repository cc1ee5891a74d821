"""misbridge plugin for Arbor (cloud MIS): REST + GraphQL, with a faithful simulator.

The hooks come from the session (``session``); the client (``client``), the readers
(``reader``), the mapping (``mapping``), what each dataset reads (``extract``) and the
simulator (``simulator``) live in their own modules; the command line is the standard
one. See ``docs/plugins/arbor.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.plugin import Dataset, MisInfo, MisPlugin
from misbridge_arbor.settings import CREDENTIALS, SETTINGS

if TYPE_CHECKING:
    from misbridge_arbor.simulator import ArborSimulator

__all__ = ["INFO", "plugin", "simulator"]


def simulator(school: Any, **options: Any) -> ArborSimulator:
    """The Arbor simulator (:mod:`misbridge_arbor.simulator`)."""
    # Imported here: loading the plugins (every CLI command, every library extract)
    # must not pay for a simulator, its web framework or its renderers.
    from misbridge_arbor.simulator import ArborSimulator

    return ArborSimulator(school, **options)


INFO = MisInfo(
    name="arbor",
    title="Arbor",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # Every dataset but assessments, which this plugin does not read (yet).
    datasets=tuple(d for d in Dataset if d is not Dataset.ASSESSMENTS),
    simulator=simulator,
    docs_url="docs/plugins/arbor.md",
    school_setting="subdomain",
    api="1.0",
)

#: The entry point (``arbor = "misbridge_arbor:plugin"``): every hook, from the session,
#: which is imported on first use.
plugin = MisPlugin(INFO, "misbridge_arbor.session:ArborSession")
