"""misbridge plugin for Wonde, the aggregator API in front of SIMS, Arbor, iSAMS and more.

The plugin's description, and its hooks made from one session class: the wire format
is in :mod:`misbridge_wonde.mapping`, the HTTP session in :mod:`misbridge_wonde.session`,
paging in :mod:`misbridge_wonde.paging`, the datasets in :mod:`misbridge_wonde.extract`,
the simulator in :mod:`misbridge_wonde.simulator` and the command line in
:mod:`misbridge_wonde.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.plugin import FieldCoverage, MisInfo, MisPlugin
from misbridge_wonde.settings import CREDENTIALS, DATASETS, SETTINGS

if TYPE_CHECKING:
    from misbridge_wonde.simulator import WondeSimulator

__all__ = ["INFO", "plugin", "simulator"]


def simulator(school: Any, **options: Any) -> WondeSimulator:
    """The Wonde simulator (:mod:`misbridge_wonde.simulator`)."""
    # Imported here: loading the plugins (every CLI command, every library extract)
    # must not pay for a simulator, its web framework or its renderers.
    from misbridge_wonde.simulator import WondeSimulator

    return WondeSimulator(school, **options)


INFO = MisInfo(
    name="wonde",
    title="Wonde",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    datasets=DATASETS,
    simulator=simulator,
    docs_url="docs/plugins/wonde.md",
    coverage=FieldCoverage(
        frozenset(
            {
                # No academic-year endpoint among Wonde's lists.
                "AcademicYear",
                # Year groups are groups (name, code, type, description, notes, division).
                "YearGroup.start",
                "YearGroup.end",
                # No per-membership dates on the groups and classes includes.
                "Membership.start",
                "Membership.end",
                # One email per type plus the Primary one; the Main flag is not sent.
                "Student.email_preference",
                # extended_details.sen_status: the current code only, no dates or history.
                "Student.sen.dates",
                "Student.sen.history",
            }
        )
    ),
    school_setting="school_id",
    api="1.0",
)

#: The entry point (``wonde = "misbridge_wonde:plugin"``): every hook, from the session,
#: which is imported on first use.
plugin = MisPlugin(INFO, "misbridge_wonde.session:WondeSession", cli="misbridge_wonde.cli:group")
