"""Fixtures for the Wonde plugin's tests: an isolated misbridge home, shared objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.source import SourceSchool
from misbridge.testing.school import sample_school


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Incremental state files go to a fresh folder, never the developer's home."""
    home = tmp_path / "misbridge-home"
    monkeypatch.setenv("MISBRIDGE_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return get_plugin_manager()


@pytest.fixture(scope="session")
def small_school() -> SourceSchool:
    return sample_school(students=40, staff=5)
