"""Export tests use the store tests' fixtures: every store test runs on SQLite and on
PostgreSQL, in throw-away stores."""

from __future__ import annotations

from tests.core.store.conftest import backend, empty_stores, store, store_url

__all__ = ["backend", "empty_stores", "store", "store_url"]
