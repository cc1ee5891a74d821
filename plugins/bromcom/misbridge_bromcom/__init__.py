"""misbridge plugin for Bromcom: the Partner Data API 2.0, or the legacy SOAP service.

The hooks come from the session (:mod:`.session`); the wire vocabulary is in
:mod:`.schema`, the two clients in :mod:`.partner` and :mod:`.soap`, the mapping in
:mod:`.mapping`, what each dataset reads in :mod:`.extract`, the simulator in
:mod:`.simulator` and the CLI in :mod:`.cli`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.plugin import Dataset, FieldCoverage, MisInfo, MisPlugin
from misbridge_bromcom.settings import CREDENTIALS, SETTINGS

if TYPE_CHECKING:
    from misbridge_bromcom.simulator import BromcomSimulator

__all__ = ["INFO", "plugin", "simulator"]


def simulator(school: Any, **options: Any) -> BromcomSimulator:
    """The Bromcom simulator (:mod:`misbridge_bromcom.simulator`)."""
    # Imported here: loading the plugins (every CLI command, every library extract)
    # must not pay for a simulator, its web framework or its renderers.
    from misbridge_bromcom.simulator import BromcomSimulator

    return BromcomSimulator(school, **options)


#: StudentFlatView has no address or telephone of the pupil (contact1..3 are the parents'),
#: one studentEmail without its type or Primary/Main flags, and the SEN provision in force
#: without its dates or earlier provisions; the legacy service's person entities have them.
FLAT_VIEW_LACKS = frozenset(
    {
        "Student.home_address",
        "Student.home_telephone",
        "Student.mobile_telephone",
        "Student.work_email",
        "Student.email_preference",
        "Student.sen.dates",
        "Student.sen.history",
    }
)

INFO = MisInfo(
    name="bromcom",
    title="Bromcom",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    # Every dataset but assessments, which this plugin does not read (yet).
    datasets=tuple(d for d in Dataset if d is not Dataset.ASSESSMENTS),
    simulator=simulator,
    docs_url="docs/plugins/bromcom.md",
    coverage=FieldCoverage(
        # Collections have a name and a description, no separate short code.
        frozenset({"Group.code"}),
        when=(
            ("mode", "partner", FLAT_VIEW_LACKS),
            ("legacy_contacts", "no", FLAT_VIEW_LACKS),
        ),
    ),
    school_setting="school_id",
    api="1.0",
)


#: The entry point (``bromcom = "misbridge_bromcom:plugin"``): every hook, from the session,
#: which is imported on first use.
plugin = MisPlugin(
    INFO, "misbridge_bromcom.session:BromcomSession", cli="misbridge_bromcom.cli:group"
)
