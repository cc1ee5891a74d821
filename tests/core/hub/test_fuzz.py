"""Fuzz the API from its own OpenAPI description (schemathesis): no answer is a 500.

The hub runs for real (uvicorn on a loopback port) on a world with every kind of
caller; each generated request carries the token its path is meant for, so the fuzz
reaches past authentication into the handlers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from misbridge.hub.app import create_app
from misbridge.hub.settings import HubSettings
from misbridge.simulation import serve_loopback
from tests.core.hub.world import World, auth, build_world


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = build_world(tmp_path_factory.mktemp("fuzz") / "world")
    app = create_app(world.settings(poll_hold_seconds=0.2))
    with serve_loopback(app) as url:  # type: ignore[arg-type]
        yield url, world


def _description() -> dict[str, Any]:
    """The OpenAPI description, as the hub serves it (from an empty hub)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = HubSettings(
            database_url=f"sqlite:///{root / 'hub.db'}",
            storage_path=root / "uploads",
            key_path=root / "key",
        )
        app = create_app(settings)
        description = app.openapi()
        app.state.hub.engine.dispose()
    return description


# Upload chunks are raw bytes, as application/octet-stream bodies are.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
schema = schemathesis.openapi.from_dict(_description())


def _token_for(path: str, world: World) -> str:
    if path.startswith("/api/v1/agent/"):
        return world.tokens["agent_a"]
    if path.startswith("/api/v1/runs/"):
        return world.tokens["it_a"]
    if path.startswith(("/api/v1/extracts/", "/api/v1/me")):
        return world.tokens["import_a"]
    return world.tokens["admin"]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_makes_the_hub_fail(case: Any, fuzz_hub: tuple[str, World]) -> None:
    url, world = fuzz_hub
    response = case.call(base_url=url, headers=auth(_token_for(case.path, world)), timeout=10)
    case.validate_response(response, checks=[not_a_server_error])
