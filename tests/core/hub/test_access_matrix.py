"""Every API endpoint against every kind of caller, and another school's credentials.

A matrix, not samples: the table below must name every route the app has (a new
endpoint without a row fails the first test). Each cell runs on a fresh copy of the
world, so that no call depends on another's side effects. "Allowed" means the caller
got past authentication and authorisation (any answer but 401/403/404); everyone else
must get 401 (no token), 403 (a permission or the wrong kind of token) or 404 (another
school's resource, whose existence is not confirmed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.app import create_app
from misbridge.hub.database import open_database
from tests.core.hub.world import World, auth, build_world, copy_world, serve

CALLERS = (
    "anonymous",
    "admin",
    "import_a",
    "view_a",
    "import_b",
    "agent_a",
    "agent_b",
    "it_a",
    "it_b",
)
USERS_A = {"admin", "import_a", "view_a"}
ALL_USERS = USERS_A | {"import_b"}
EVERYONE = set(CALLERS)

Body = Callable[[World], Any]


def _none(_: World) -> None:
    return None


# (method, path) -> (who is let through, path values, JSON body, extra headers)
MATRIX: dict[tuple[str, str], tuple[set[str], Body, dict[str, str]]] = {
    ("GET", "/api/v1/hub"): (EVERYONE, _none, {}),
    ("GET", "/api/v1/me"): (ALL_USERS, _none, {}),
    ("PUT", "/api/v1/me/public-key"): (
        {"import_a", "import_b"},
        lambda w: {"public_key": "A" * 43 + "="},
        {},
    ),
    ("PUT", "/api/v1/me/webhook"): ({"import_a", "import_b"}, lambda w: {"url": None}, {}),
    ("POST", "/api/v1/users"): (
        {"admin"},
        lambda w: {"name": "newcomer", "permissions": ["view"]},
        {},
    ),
    ("POST", "/api/v1/users/{user_id}/tokens"): ({"admin"}, lambda w: {}, {}),
    ("DELETE", "/api/v1/tokens/{token_id}"): ({"admin"}, _none, {}),
    ("GET", "/api/v1/schools"): (ALL_USERS, _none, {}),
    ("POST", "/api/v1/schools"): ({"admin"}, lambda w: {"name": "Cedar", "mis": "sims"}, {}),
    ("GET", "/api/v1/schools/{school_id}"): (USERS_A, _none, {}),
    ("POST", "/api/v1/schools/{school_id}/activation-codes"): ({"admin"}, _none, {}),
    ("POST", "/api/v1/schools/{school_id}/extracts"): ({"import_a"}, lambda w: {}, {}),
    ("GET", "/api/v1/schools/{school_id}/extracts"): (USERS_A, _none, {}),
    ("GET", "/api/v1/extracts/{request_id}"): (USERS_A, _none, {}),
    ("GET", "/api/v1/extracts/{request_id}/errors"): (USERS_A, _none, {}),
    ("POST", "/api/v1/extracts/{request_id}/retrieval-key"): ({"import_a"}, _none, {}),
    ("GET", "/api/v1/extracts/{request_id}/download"): (
        {"import_a"},
        _none,
        {"Retrieval-Key": "mbr_" + "x" * 43},
    ),
    ("POST", "/api/v1/extracts/{request_id}/ack"): (
        {"import_a"},
        lambda w: {"sha256": "0" * 64},
        {"Retrieval-Key": "mbr_" + "x" * 43},
    ),
    ("GET", "/api/v1/audit"): ({"admin"}, _none, {}),
    # Activation takes a one-time code, not a token: a wrong code is refused for all.
    ("POST", "/api/v1/agent/activate"): (
        set(),
        lambda w: {"code": "AAAAA-BBBBB", "public_key": "A" * 43 + "="},
        {},
    ),
    ("GET", "/api/v1/agent/me"): ({"agent_a", "agent_b"}, _none, {}),
    ("GET", "/api/v1/agent/jobs"): ({"agent_a", "agent_b"}, _none, {}),
    ("GET", "/api/v1/agent/jobs/{request_id}"): ({"agent_a"}, _none, {}),
    ("POST", "/api/v1/agent/jobs/{request_id}/claim"): ({"agent_a"}, _none, {}),
    ("POST", "/api/v1/agent/jobs/{request_id}/token"): ({"agent_a"}, _none, {}),
    ("POST", "/api/v1/agent/jobs/{request_id}/fail"): (
        {"agent_a"},
        lambda w: {"reason": "MIS login refused"},
        {},
    ),
    ("GET", "/api/v1/agent/history"): ({"agent_a", "agent_b"}, _none, {}),
    ("POST", "/api/v1/agent/purge"): (
        {"agent_a", "agent_b"},
        lambda w: {"confirm": w.school_a},
        {},
    ),
    ("POST", "/api/v1/runs/{request_id}/status"): ({"it_a"}, lambda w: {"detail": "x"}, {}),
    ("POST", "/api/v1/runs/{request_id}/fail"): ({"it_a"}, lambda w: {"reason": "x"}, {}),
    ("PUT", "/api/v1/runs/{request_id}/errors"): (
        {"it_a"},
        lambda w: {"errors": [], "summary": None},
        {},
    ),
    ("POST", "/api/v1/runs/{request_id}/upload"): (
        {"it_a"},
        lambda w: {"size": 10, "sha256": "0" * 64},
        {},
    ),
    ("GET", "/api/v1/runs/{request_id}/upload"): ({"it_a"}, _none, {}),
    ("PATCH", "/api/v1/runs/{request_id}/upload"): ({"it_a"}, _none, {"Upload-Offset": "0"}),
    ("POST", "/api/v1/runs/{request_id}/upload/complete"): (
        {"it_a"},
        lambda w: {"datasets": ["students"]},
        {},
    ),
    # Workers' calls take a worker token (none of these callers holds one).
    ("POST", "/api/v1/worker/jobs/{request_id}/claim"): (set(), _none, {}),
    ("POST", "/api/v1/worker/jobs/{request_id}/token"): (set(), _none, {}),
    ("POST", "/api/v1/worker/jobs/{request_id}/fail"): (set(), lambda w: {"reason": "x"}, {}),
    ("GET", "/api/v1/schedules"): (ALL_USERS, _none, {}),
    ("POST", "/api/v1/schedules"): (
        {"admin"},
        lambda w: {
            "name": "night",
            "user": "import_a",
            "schools": [w.school_a],
            "window": "01:00-05:00",
        },
        {},
    ),
    ("GET", "/api/v1/schedules/{schedule_id}/runs"): (ALL_USERS, _none, {}),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world") / "template")


def test_the_matrix_names_every_route(template: World, tmp_path: Path) -> None:
    app = create_app(copy_world(template, tmp_path).settings())
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == set(MATRIX)


def _path(template_path: str, world: World) -> str:
    return template_path.format(
        school_id=world.school_a,
        request_id=world.ids["ra"],
        user_id=world.ids["view_a"],
        token_id=world.ids["token_view_a"],
        schedule_id="nsc_000000000000000000000000",
    )


@pytest.mark.parametrize(("method", "route"), sorted(MATRIX))
async def test_every_caller_on(method: str, route: str, template: World, tmp_path: Path) -> None:
    allowed, body, headers = MATRIX[(method, route)]
    answers: dict[str, int] = {}
    world = copy_world(template, tmp_path)
    # Refusals first: a refused call changes nothing, so the allowed calls that follow
    # meet the world as it was.
    async with serve(world) as (http, _):
        for caller in sorted(CALLERS, key=lambda c: (c in allowed, c)):
            token = None if caller == "anonymous" else world.tokens[caller]
            response = await http.request(
                method,
                _path(route, world),
                json=body(world),
                headers={**auth(token), **headers},
            )
            answers[caller] = response.status_code
            assert response.status_code != 500, (caller, response.text)
    for caller, status in answers.items():
        if caller in allowed:
            assert status not in (401, 403, 404), (caller, status)
        elif caller == "anonymous" and route != "/api/v1/agent/activate":
            assert status == 401, (caller, status)
        else:
            assert status in (403, 404) or (caller == "agent_b" and status == 400), (
                caller,
                status,
            )


async def test_refusals_are_audited(template: World, tmp_path: Path) -> None:
    world = copy_world(template, tmp_path)
    async with serve(world) as (http, _):
        refused = await http.post(
            f"/api/v1/schools/{world.school_a}/extracts",
            json={},
            headers=auth(world.tokens["view_a"]),
        )
    assert refused.status_code == 403
    assert "import-data" in refused.json()["message"]
    engine = open_database(world.url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(schema.audit).where(
                schema.audit.c.action == "extract.start", schema.audit.c.outcome == "denied"
            )
        ).all()
    engine.dispose()
    assert [(r.actor_id, r.school_id) for r in rows] == [(world.ids["view_a"], world.school_a)]
