"""Standard exports of the roster: 1EdTech OneRoster CSV (1.2 and 1.1) and Microsoft
School Data Sync v2.1 CSV, from the sync store or from an extract folder.

::

    from misbridge.export import export_oneroster, export_sds, roster_from_store
    from misbridge.store import open_store

    with open_store("sqlite:///misbridge.db") as store:
        roster = roster_from_store(store)  # enabled records only
    result = export_oneroster(
        roster, Path("out"), org_name="Hollowfield Academy", org_identifier="140321"
    )
    result.zip_path  # out/oneroster-1.2.zip, for upload
    result.errors  # RecordError per record left out (MB7xxx), also in out/report.html

Identifiers are UUIDs derived from the store's id and each record's internal id, so they
survive a change of MIS. See ``docs/export-oneroster.md`` and ``docs/export-sds.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from misbridge.export.from_extract import roster_from_extract, roster_from_extract_folder
    from misbridge.export.from_store import roster_from_store
    from misbridge.export.oneroster import build_oneroster
    from misbridge.export.package import Package, Table, read_package
    from misbridge.export.roster import Roster
    from misbridge.export.rules import demographics_allowed
    from misbridge.export.run import ExportResult, export_oneroster, export_sds
    from misbridge.export.sds import build_sds

# Loaded on first use, so that the CLI (whose ``export`` commands live in this package)
# starts without importing the exporters.
_WHERE = {
    "roster_from_extract": "from_extract",
    "roster_from_extract_folder": "from_extract",
    "roster_from_store": "from_store",
    "build_oneroster": "oneroster",
    "Package": "package",
    "Table": "package",
    "read_package": "package",
    "Roster": "roster",
    "demographics_allowed": "rules",
    "ExportResult": "run",
    "export_oneroster": "run",
    "export_sds": "run",
    "build_sds": "sds",
}

__all__ = [
    "ExportResult",
    "Package",
    "Roster",
    "Table",
    "build_oneroster",
    "build_sds",
    "demographics_allowed",
    "export_oneroster",
    "export_sds",
    "read_package",
    "roster_from_extract",
    "roster_from_extract_folder",
    "roster_from_store",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
