"""misbridge plugin for SIMS 7 (on-premises): CommandReporter reports, parsed safely.

SIMS has no web API on-premises: this plugin runs CommandReporter.exe (or reads the
reports it exported) for each dataset's report and parses the ``SuperStarReport`` XML
as it streams from CommandReporter's standard output. Photos come from the photo
reports' picture column or from a folder of exported photos. See
``docs/plugins/sims.md`` for the reports a SIMS administrator imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.plugin import MisInfo, MisPlugin
from misbridge_sims.reports import DATASET_REPORTS
from misbridge_sims.settings import CREDENTIALS, SETTINGS

if TYPE_CHECKING:
    from misbridge_sims.simulator import SimsSimulator

__all__ = ["INFO", "plugin", "simulator"]


def simulator(school: Any, **options: Any) -> SimsSimulator:
    """The SIMS simulator (see :mod:`misbridge_sims.simulator`)."""
    # Imported here so that the stand-in, which starts as a fresh process for every
    # report, does not pay for the simulator's imports.
    from misbridge_sims.simulator import SimsSimulator

    return SimsSimulator(school, **options)


INFO = MisInfo(
    name="sims",
    title="SIMS",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    datasets=tuple(DATASET_REPORTS),
    simulator=simulator,
    docs_url="docs/plugins/sims.md",
    school_setting="database",
    api="1.0",
)

#: The entry point (``sims = "misbridge_sims:plugin"``): every hook, from the session,
#: which is imported on first use (the stand-in process never needs it).
plugin = MisPlugin(INFO, "misbridge_sims.session:SimsSession", cli="misbridge_sims.cli:group")
