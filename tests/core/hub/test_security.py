"""The hub's safety rules, each as a test: TLS, hashed secrets, token binding, retrieval
key replay and expiry, one extract at a time, at most one claim, expiry purge, restart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.hub.database import open_database
from misbridge.hub.protocol import content_digest
from tests.core.hub.world import World, auth, build_world, copy_world, serve

PAYLOAD = b"sealed bytes stand-in " * 200


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world") / "template")


@pytest.fixture
def world(template: World, tmp_path: Path) -> World:
    return copy_world(template, tmp_path / "w")


async def _upload(http: httpx.AsyncClient, world: World, chunk: int = 1000) -> None:
    """Request A's upload, in chunks, completed: the request becomes ready."""
    rid, it = world.ids["ra"], auth(world.tokens["it_a"])
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    begun = await http.post(
        f"/api/v1/runs/{rid}/upload", json={"size": len(PAYLOAD), "sha256": sha}, headers=it
    )
    assert begun.status_code == 200, begun.text
    for offset in range(0, len(PAYLOAD), chunk):
        part = PAYLOAD[offset : offset + chunk]
        sent = await http.patch(
            f"/api/v1/runs/{rid}/upload",
            content=part,
            headers={**it, "Upload-Offset": str(offset), "Content-Digest": content_digest(part)},
        )
        assert sent.status_code == 200, sent.text
    done = await http.post(
        f"/api/v1/runs/{rid}/upload/complete", json={"datasets": ["students"]}, headers=it
    )
    assert done.status_code == 200, done.text


async def test_plain_http_is_refused_except_from_loopback(world: World) -> None:
    async with serve(world, client="203.0.113.7") as (http, _):
        refused = await http.get("/api/v1/hub")
    assert refused.status_code == 403 and refused.json()["error"] == "tls-required"
    async with serve(world, client="203.0.113.7", base_url="https://hub.test") as (http, _):
        assert (await http.get("/api/v1/hub")).status_code == 200
    async with serve(world, client="::1") as (http, _):
        assert (await http.get("/api/v1/hub")).status_code == 200


async def test_the_agent_refuses_a_plain_http_hub_that_is_not_loopback() -> None:
    from misbridge.agent.hubclient import check_hub_url
    from misbridge.errors import ConfigurationError
    from misbridge.hub.protocol import is_loopback

    assert [is_loopback(h) for h in ("127.0.0.9", "::1", "localhost")] == [True] * 3
    assert [is_loopback(h) for h in ("10.0.0.1", "hub.example.org", "", None)] == [False] * 4
    assert check_hub_url("http://127.0.0.1:8443/") == "http://127.0.0.1:8443"
    assert check_hub_url("https://hub.example.org") == "https://hub.example.org"
    with pytest.raises(ConfigurationError, match="https"):
        check_hub_url("http://hub.example.org")


async def test_secrets_are_stored_only_as_digests(world: World) -> None:
    async with serve(world) as (http, _):
        await _upload(http, world)
        key = (
            await http.post(
                f"/api/v1/extracts/{world.ids['ra']}/retrieval-key",
                headers=auth(world.tokens["import_a"]),
            )
        ).json()["retrieval_key"]
        code = (
            await http.post(
                f"/api/v1/schools/{world.school_a}/activation-codes",
                headers=auth(world.tokens["admin"]),
            )
        ).json()["code"]
    files = sorted(world.folder.glob("hub.db*"))  # the database and its write-ahead log
    dump = "\n".join(f.read_bytes().decode("latin-1") for f in files)
    secrets = [*world.tokens.values(), key, code]
    assert [s for s in secrets if s in dump] == []
    assert hashlib.sha256(key.encode()).hexdigest() in dump  # kept, as a digest


async def test_an_integrator_token_is_for_its_own_request_and_expires(world: World) -> None:
    async with serve(world) as (http, _):
        other = await http.post(
            f"/api/v1/runs/{world.ids['ra']}/status", json={}, headers=auth(world.tokens["it_b"])
        )
        assert other.status_code == 403
        ok = await http.post(
            f"/api/v1/runs/{world.ids['ra']}/status", json={}, headers=auth(world.tokens["it_a"])
        )
        assert ok.status_code == 200
        # An agent's own token is not an Integrator Token, even for its own request.
        agent = await http.post(
            f"/api/v1/runs/{world.ids['ra']}/status", json={}, headers=auth(world.tokens["agent_a"])
        )
        assert agent.status_code == 403
        world.clock.advance(minutes=16)
        expired = await http.post(
            f"/api/v1/runs/{world.ids['ra']}/status", json={}, headers=auth(world.tokens["it_a"])
        )
        assert expired.status_code == 401 and "expired" in expired.json()["message"]


async def test_a_retrieval_key_is_refused_when_replayed_replaced_or_expired(world: World) -> None:
    rid, user = world.ids["ra"], auth(world.tokens["import_a"])
    async with serve(world) as (http, _):
        await _upload(http, world)
        first = (await http.post(f"/api/v1/extracts/{rid}/retrieval-key", headers=user)).json()
        second = (await http.post(f"/api/v1/extracts/{rid}/retrieval-key", headers=user)).json()
        replaced = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**user, "Retrieval-Key": first["retrieval_key"]},
        )
        assert replaced.status_code == 403
        # Only the requester may retrieve (it is sealed to their key), not a viewer.
        viewer = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**auth(world.tokens["view_a"]), "Retrieval-Key": second["retrieval_key"]},
        )
        assert viewer.status_code == 403
        got = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert got.status_code == 200 and got.content == PAYLOAD
        again = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert again.content == PAYLOAD  # a lost answer can be fetched again until the ack
        wrong = await http.post(
            f"/api/v1/extracts/{rid}/ack",
            json={"sha256": "0" * 64},
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert wrong.status_code == 409
        ack = await http.post(
            f"/api/v1/extracts/{rid}/ack",
            json={"sha256": second["sha256"]},
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert ack.status_code == 200
        replay = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert replay.status_code == 410
        replay_ack = await http.post(
            f"/api/v1/extracts/{rid}/ack",
            json={"sha256": second["sha256"]},
            headers={**user, "Retrieval-Key": second["retrieval_key"]},
        )
        assert replay_ack.status_code == 410
    assert list((world.folder / "uploads").iterdir()) == []


async def test_an_expired_retrieval_key_is_refused(world: World) -> None:
    rid, user = world.ids["ra"], auth(world.tokens["import_a"])
    async with serve(world, retrieval_key_seconds=60) as (http, _):
        await _upload(http, world)
        key = (await http.post(f"/api/v1/extracts/{rid}/retrieval-key", headers=user)).json()
        world.clock.advance(seconds=61)
        late = await http.get(
            f"/api/v1/extracts/{rid}/download",
            headers={**user, "Retrieval-Key": key["retrieval_key"]},
        )
        assert late.status_code == 410 and "expired" in late.json()["message"]


async def test_unacknowledged_uploads_expire_and_are_purged_with_an_audit_entry(
    world: World,
) -> None:
    async with serve(world, upload_retention_seconds=3600, sweep_seconds=0.05) as (http, app):
        await _upload(http, world)
        assert len(list((world.folder / "uploads").iterdir())) == 1
        world.clock.advance(hours=2)
        from misbridge.hub.retention import sweep

        ctx = app.state.hub
        assert sweep(ctx.engine, ctx.storage, ctx.now(), ctx.settings)["expired"] == 1
        state = (
            await http.get(
                f"/api/v1/extracts/{world.ids['ra']}", headers=auth(world.tokens["view_a"])
            )
        ).json()
    assert state["state"] == "expired" and state["upload"]["deleted_why"] == "expired"
    assert list((world.folder / "uploads").iterdir()) == []
    engine = open_database(world.url)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(schema.audit.c.action))]
    engine.dispose()
    assert "upload.expired" in actions


async def test_a_second_start_extract_joins_or_is_refused(world: World) -> None:
    school, importer = world.school_b, auth(world.tokens["import_b"])
    async with serve(world) as (http, _):
        # rb is running at school B: its requester, same datasets, joins it.
        joined = await http.post(f"/api/v1/schools/{school}/extracts", json={}, headers=importer)
        assert joined.status_code == 200 and joined.json()["id"] == world.ids["rb"]
        assert joined.json()["joined"] is True
        other = await http.post(
            f"/api/v1/schools/{school}/extracts", json={"datasets": ["staff"]}, headers=importer
        )
        assert other.status_code == 409 and world.ids["rb"] in other.json()["message"]
        history = (
            await http.get("/api/v1/agent/history", headers=auth(world.tokens["agent_b"]))
        ).json()
    assert [r["id"] for r in history["requests"]] == [world.ids["rb"]]


async def test_a_request_is_claimed_at_most_once_even_by_the_same_agent(world: World) -> None:
    async with serve(world) as (http, _):
        again = await http.post(
            f"/api/v1/agent/jobs/{world.ids['ra']}/claim", headers=auth(world.tokens["agent_a"])
        )
    assert again.status_code == 409 and "not processed twice" in again.json()["message"]


async def test_a_restart_loses_no_request_and_no_upload(world: World) -> None:
    rid, it = world.ids["ra"], auth(world.tokens["it_a"])
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    async with serve(world) as (http, _):
        await http.post(
            f"/api/v1/runs/{rid}/upload", json={"size": len(PAYLOAD), "sha256": sha}, headers=it
        )
        half = PAYLOAD[:2000]
        await http.patch(
            f"/api/v1/runs/{rid}/upload",
            content=half,
            headers={**it, "Upload-Offset": "0", "Content-Digest": content_digest(half)},
        )
    async with serve(world) as (http, _):
        status = (await http.get(f"/api/v1/runs/{rid}/upload", headers=it)).json()
        assert status["offset"] == 2000
        rest = PAYLOAD[2000:]
        await http.patch(
            f"/api/v1/runs/{rid}/upload",
            content=rest,
            headers={**it, "Upload-Offset": "2000", "Content-Digest": content_digest(rest)},
        )
        done = await http.post(
            f"/api/v1/runs/{rid}/upload/complete", json={"datasets": ["students"]}, headers=it
        )
        assert done.json()["complete"] is True
        pending = (
            await http.get(
                f"/api/v1/extracts/{world.ids['rb']}", headers=auth(world.tokens["import_b"])
            )
        ).json()
    assert pending["state"] == "extracting"


async def test_a_chunk_that_does_not_match_its_digest_is_refused(world: World) -> None:
    rid, it = world.ids["ra"], auth(world.tokens["it_a"])
    async with serve(world) as (http, _):
        await http.post(
            f"/api/v1/runs/{rid}/upload", json={"size": 10, "sha256": "0" * 64}, headers=it
        )
        bad = await http.patch(
            f"/api/v1/runs/{rid}/upload",
            content=b"0123456789",
            headers={
                **it,
                "Upload-Offset": "0",
                "Content-Digest": content_digest(b"something else"),
            },
        )
        assert bad.status_code == 400
        complete = await http.post(
            f"/api/v1/runs/{rid}/upload/complete", json={"datasets": ["students"]}, headers=it
        )
        assert complete.status_code == 409
