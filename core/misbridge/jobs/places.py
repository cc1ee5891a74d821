"""Where this machine's runs have put pupils' data: sync stores and extract folders.

``misbridge decommission`` lists them (and, when asked, erases the SQLite stores and
the folders), so that switching misbridge off leaves no copy of a school behind that no
one remembers. Only locations are kept here (a PostgreSQL URL without its password).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from misbridge.config import home
from misbridge.files import atomic_write_json

__all__ = ["known_places", "remember_places"]


def _path() -> Path:
    return home() / "state" / "places.json"


def known_places() -> dict[str, list[str]]:
    """``{"stores": [...], "folders": [...]}`` recorded by earlier runs."""
    try:
        data: Any = json.loads(_path().read_text(encoding="utf-8"))
        return {
            "stores": [str(s) for s in data.get("stores", [])],
            "folders": [str(f) for f in data.get("folders", [])],
        }
    except (OSError, ValueError, AttributeError):
        return {"stores": [], "folders": []}


def remember_places(store: str | None, folder: Path | None) -> None:
    """Note ``store`` (a URL; its password is never kept) and ``folder``."""
    places = known_places()
    changed = False
    if store:
        from misbridge.store.engine import redacted

        shown = store if store.startswith("sqlite") else redacted(store)
        if store.startswith("sqlite:///") and not store.startswith("sqlite:////"):
            shown = "sqlite:///" + str(Path(store[len("sqlite:///") :]).resolve())
        if shown not in places["stores"]:
            places["stores"].append(shown)
            changed = True
    if folder is not None:
        where = str(folder.resolve())
        if where not in places["folders"]:
            places["folders"].append(where)
            changed = True
    if changed:
        # A record for decommissioning, never a reason to fail a run.
        with contextlib.suppress(OSError):
            atomic_write_json(_path(), places)
