"""Export tests use the store tests' fixtures: every store test runs on SQLite and on
PostgreSQL, in throw-away stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from misbridge.store import Store, open_store
from tests.core.export.schools import TODAY, sample_extract
from tests.core.store.conftest import (
    backend,
    empty_stores,
    new_store_url,
    require_pg,
    store,
    store_url,
)

__all__ = ["backend", "empty_stores", "store", "store_url", "synced"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store holding the sample school (synced once per backend for this module)."""
    if request.param == "postgresql":
        require_pg()
    url, pg = new_store_url(str(request.param), tmp_path_factory.mktemp("store"))
    try:
        with open_store(url) as opened:
            opened.sync(sample_extract(), today=TODAY)
            yield opened
    finally:
        if pg is not None:
            pg.drop()
