"""Where misbridge keeps its files on this machine."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_STORE_URL", "home"]

#: The embedded default sync store: ``misbridge.db`` in the current folder.
DEFAULT_STORE_URL = "sqlite:///misbridge.db"


def home() -> Path:
    """The misbridge home folder: ``$MISBRIDGE_HOME``, else ``~/.config/misbridge``.

    Keys, sealed credentials, extract state and logs live under it; ``misbridge
    decommission`` removes it.
    """
    configured = os.environ.get("MISBRIDGE_HOME")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "misbridge"
