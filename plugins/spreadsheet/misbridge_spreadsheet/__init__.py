"""misbridge plugin for spreadsheets: the CSV and XLSX report exports any MIS can make.

For a school whose MIS has no API misbridge reads (Ed:Gen, a SIMS without
CommandReporter access), and for what no MIS API gives, such as termly assessment
marksheets. A column mapping (TOML) per export layout says which column fills which
field; see ``docs/plugins/spreadsheet.md``. Files are read with the same caps as hostile
XML: sizes, rows, columns and cells are bounded, XLSX zip bombs are refused before
anything inflates, formulas are never evaluated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from misbridge.plugin import FieldCoverage, MisInfo, MisPlugin
from misbridge_spreadsheet.coverage import lacks_of_settings
from misbridge_spreadsheet.settings import CREDENTIALS, DATASETS, SETTINGS

if TYPE_CHECKING:
    from misbridge_spreadsheet.simulator import SpreadsheetSimulator

__all__ = ["INFO", "plugin", "simulator"]


def simulator(school: Any, **options: Any) -> SpreadsheetSimulator:
    """The spreadsheet simulator (see :mod:`misbridge_spreadsheet.simulator`), imported
    on first use: it needs openpyxl and msoffcrypto to write workbooks."""
    from misbridge_spreadsheet.simulator import SpreadsheetSimulator

    return SpreadsheetSimulator(school, **options)


INFO = MisInfo(
    name="spreadsheet",
    title="Spreadsheet exports (CSV, XLSX)",
    credentials=CREDENTIALS,
    settings=SETTINGS,
    datasets=DATASETS,
    simulator=simulator,
    docs_url="docs/plugins/spreadsheet.md",
    # What the chosen mapping has no column for: a sync keeps the stored value.
    coverage=FieldCoverage(derive=lacks_of_settings),
    api="1.0",
)

#: The entry point (``spreadsheet = "misbridge_spreadsheet:plugin"``): every hook, from
#: the session, imported on first use.
plugin = MisPlugin(
    INFO,
    "misbridge_spreadsheet.session:SpreadsheetSession",
    cli="misbridge_spreadsheet.cli:group",
)
