"""Fixtures for the run's tests: the store fixtures of the store's tests (SQLite and
PostgreSQL), and a misbridge home of each test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.store.conftest import backend, empty_stores, store_url

__all__ = ["backend", "empty_stores", "store_url"]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MISBRIDGE_HOME", str(home))
    return home
