"""What the hub does on its own: wake agents for requests another hub process made, and
fail requests whose agent went silent."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import sqlalchemy as sa

from misbridge.hub import accounts, extracts, schema
from misbridge.hub.database import open_database
from misbridge.hub.retention import sweep
from tests.core.hub.world import auth, build_world, serve


async def test_a_request_made_by_another_hub_process_reaches_a_waiting_agent(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path / "world")
    other = open_database(world.url)  # another hub process on the same database
    with other.begin() as conn:
        conn.execute(schema.extract_request.update().values(state="failed"))
    async with serve(world, sweep_seconds=0.2) as (http, _):
        poll = asyncio.create_task(
            http.get(
                "/api/v1/agent/jobs", params={"wait": 20}, headers=auth(world.tokens["agent_a"])
            )
        )
        await asyncio.sleep(0.5)  # the poll is being held
        started = time.monotonic()
        importer = accounts.authenticate(other, world.clock(), world.tokens["import_a"], via="api")
        request, _ = await asyncio.to_thread(
            extracts.start_extract, other, world.clock(), importer, world.school_a, None
        )
        jobs = (await poll).json()["jobs"]
        waited = time.monotonic() - started
    other.dispose()
    assert [j["request_id"] for j in jobs] == [request["id"]]
    assert waited < 5  # within a few sweeps, not the 20 s hold


async def test_a_request_whose_agent_went_silent_is_failed_saying_so(tmp_path: Path) -> None:
    world = build_world(tmp_path / "world")
    async with serve(world, request_timeout_seconds=3600) as (http, app):
        ctx = app.state.hub
        world.clock.advance(hours=2)
        done = sweep(ctx.engine, ctx.storage, ctx.now(), ctx.settings)
        state = (
            await http.get(
                f"/api/v1/extracts/{world.ids['ra']}", headers=auth(world.tokens["view_a"])
            )
        ).json()
        late = await http.post(
            f"/api/v1/runs/{world.ids['ra']}/status", json={}, headers=auth(world.tokens["it_a"])
        )
    assert done["timed_out"] == 2
    assert state["state"] == "failed" and "went silent" in state["detail"]
    assert late.status_code == 401  # its Integrator Token was revoked with it
    engine = open_database(world.url)
    with engine.connect() as conn:
        audited = conn.execute(
            sa.select(sa.func.count()).where(schema.audit.c.action == "extract.timeout")
        ).scalar()
    engine.dispose()
    assert audited == 2
