"""Arbor tests keep their change-log marks in a throwaway misbridge home."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "misbridge-home"
    monkeypatch.setenv("MISBRIDGE_HOME", str(home))
    return home
