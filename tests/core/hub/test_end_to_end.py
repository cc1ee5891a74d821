"""The whole flow through real processes: a uvicorn hub (SQLite and PostgreSQL), an agent
activated with a code, the SIMS CommandReporter stand-in, and an integrator client.

Start Extract -> the agent's Integrator extracts -> sealed upload -> webhook (signed)
-> download -> hash verified -> decrypted -> acknowledged -> deleted; the decrypted
extract equals a local run of the same extract command, and no process logged a
secret or a pupil's data.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from misbridge.hooktypes import Secret
from misbridge.sample import sample_school
from misbridge.simulation import serve_loopback
from misbridge.vault.vault import Vault
from misbridge_sims.simulator import SimsSimulator
from tests.core.hub.live import AgentProcess, HubProcess, wait_for

SCHOOL = sample_school(seed=3, students=60, staff=10)


class Webhooks:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((dict(request.headers), body))
            return Response(status_code=204)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture
def sims() -> Iterator[SimsSimulator]:
    with SimsSimulator(SCHOOL) as simulator:
        yield simulator


@pytest.fixture
def webhooks() -> Iterator[tuple[Webhooks, str]]:
    receiver = Webhooks()
    with serve_loopback(receiver.app) as url:
        yield receiver, f"{url}/hook"


def _verify_signature(headers: dict[str, str], body: bytes, signing_key: str) -> None:
    fields = dict(p.split("=", 1) for p in headers["misbridge-signature"].split(","))
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signing_key))
    key.verify(base64.b64decode(fields["ed25519"]), fields["t"].encode() + b"." + body)


def _personal_values() -> set[str]:
    values: set[str] = set()
    for s in SCHOOL.students:
        for name in (s.legal_surname, s.legal_forename, s.preferred_surname):
            if name and len(name) >= 6:
                values.add(name)
        if s.upn:
            values.add(s.upn)
    return values


def _local_extract(agent: AgentProcess, sims: SimsSimulator, out: Path) -> None:
    agent.cli("sims", "extract", "--out", str(out), "--reporter", str(sims.reporter), check=False)
    assert (out / "summary.json").exists()


def _same_extract(remote: Path, local: Path) -> None:
    files = sorted(p.name for p in local.iterdir() if p.suffix in (".jsonl", ".json", ".csv"))
    assert (
        sorted(p.name for p in remote.iterdir() if p.suffix in (".jsonl", ".json", ".csv")) == files
    )
    for name in files:
        if name == "summary.json":
            ours, theirs = (json.loads((f / name).read_text()) for f in (remote, local))
            assert ours["datasets"] == theirs["datasets"]
            assert ours["errors_by_code"] == theirs["errors_by_code"]
        else:
            assert (remote / name).read_bytes() == (local / name).read_bytes(), name


def test_extract_requested_sealed_notified_retrieved_acknowledged_deleted(
    tmp_path: Path, hub_db: str, sims: SimsSimulator, webhooks: tuple[Webhooks, str]
) -> None:
    receiver, hook_url = webhooks
    hub = HubProcess(tmp_path, hub_db)
    agent = AgentProcess(tmp_path)
    hub.start()
    client = None
    try:
        school = hub.school()
        token = hub.user("integrator", "import-data")
        client, key = hub.integrator(token)
        client.set_webhook(hook_url)
        code = hub.activation_code(school)
        out = agent.activate(
            code, hub.url, "--mis", "sims", "--setting", f"reporter={sims.reporter}"
        )
        assert "Activated as agent" in out
        agent.store_credentials("sims", sims.source().credentials)
        agent.start()
        wait_for(lambda: client.schools()[0]["agent"]["state"] == "online", 30)

        request = client.start_extract(school)
        assert request["state"] == "pending"
        done = client.wait(request["id"], timeout=120)
        assert done["state"] == "ready", done
        assert set(done["summary"]["datasets"]) == {"years", "staff", "students", "groups"}

        # The hub's copy is ciphertext: no pupil's name is in it.
        stored = list((tmp_path / "uploads").iterdir())
        assert len(stored) == 1
        ciphertext = stored[0].read_bytes()
        assert not any(v.encode() in ciphertext for v in _personal_values())

        hook = wait_for(lambda: receiver.received, 30)[0]
        signing_key = httpx.get(f"{hub.url}/api/v1/hub").json()["signing_key"]
        _verify_signature(hook[0], hook[1], signing_key)
        event: dict[str, Any] = json.loads(hook[1])
        assert event["event"] == "extract.ready" and event["request_id"] == request["id"]

        remote = client.retrieve(request["id"], key, tmp_path / "retrieved", event["retrieval_key"])
        _local_extract(agent, sims, tmp_path / "local")
        _same_extract(remote, tmp_path / "local")

        after = client.request(request["id"])
        assert after["state"] == "acknowledged"
        assert after["upload"]["deleted_why"] == "acknowledged"
        assert list((tmp_path / "uploads").iterdir()) == []
        replay = httpx.get(
            f"{hub.url}/api/v1/extracts/{request['id']}/download",
            headers={"Authorization": f"Bearer {token}", "Retrieval-Key": event["retrieval_key"]},
        )
        assert replay.status_code == 410

        # The run's errors reached the hub: ids and codes only, the same as the local run's.
        local_errors = [
            json.loads(line)
            for line in (tmp_path / "local" / "errors.jsonl").read_text().splitlines()
        ]
        hub_errors = client.errors(request["id"])
        assert [(e["dataset"], e["mis_id"], e["code"]) for e in hub_errors] == [
            (e["dataset"], e["mis_id"], e["code"]) for e in local_errors
        ]
        assert hub_errors and all("message" not in e for e in hub_errors)

        status = agent.cli("agent", "status")
        assert request["id"] in status and "acknowledged" in status

        # The school asks the hub to delete all it still holds: the run's errors go.
        purged = agent.cli("agent", "purge", "--yes")
        assert f"deleted 0 uploads and {len(hub_errors)} record errors" in purged
        assert client.errors(request["id"]) == []
        assert "asked" in agent.cli("agent", "status", "--offline")
    finally:
        if client is not None:
            client.close()
        agent.stop()
        hub.stop()

    agent_token = Vault(agent.home).unseal("hub", school)
    secrets = {
        token,
        code,
        event["retrieval_key"],
        sims.password,
        *(v.reveal() for v in (agent_token or {}).values() if isinstance(v, Secret)),
    }
    logs = hub.log.read_text() + agent.log.read_text()
    assert "agent.job.uploaded" in logs and "upload.complete" in logs
    for secret in secrets:
        assert secret not in logs
    leaked = [v for v in _personal_values() if v in logs]
    assert leaked == []
