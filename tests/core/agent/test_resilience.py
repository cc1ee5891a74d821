"""Real processes stopped at the worst moments: the agent mid-extract and mid-upload, the
hub mid-upload. Each resumes, or fails the request saying why; nothing is lost."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from misbridge.hub import schema
from misbridge.sample import sample_school
from misbridge_sims.simulator import SimsSimulator
from tests.core.hub.live import AgentProcess, HubProcess, wait_for

SCHOOL = sample_school(seed=5, students=60, staff=10)


@pytest.fixture
def sims() -> Iterator[SimsSimulator]:
    with SimsSimulator(SCHOOL) as simulator:
        yield simulator


def _setup(
    tmp_path: Path, sims: SimsSimulator, *agent_options: str, **hub_settings: object
) -> tuple[HubProcess, AgentProcess, str, object, object]:
    hub = HubProcess(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", **hub_settings)
    hub.start()
    school = hub.school()
    client, key = hub.integrator(hub.user("integrator", "import-data"))
    agent = AgentProcess(tmp_path)
    options = ["--setting", f"reporter={sims.reporter}", *agent_options]
    agent.activate(hub.activation_code(school), hub.url, *options)
    agent.store_credentials("sims", sims.source().credentials)
    return hub, agent, school, client, key


def _received(hub: HubProcess) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(schema.upload.c.received))).scalar() or 0)


def _journal(agent: AgentProcess) -> list[dict[str, object]]:
    folder = agent.home / "agent" / "requests"
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text()) for p in folder.glob("req_*.json")]


def test_an_agent_killed_mid_upload_resumes_the_upload(tmp_path: Path, sims: SimsSimulator) -> None:
    hub, agent, school, client, key = _setup(
        tmp_path, sims, "--upload-rate", "4096", chunk_bytes=2048
    )
    try:
        agent.start()
        request = client.start_extract(school)  # type: ignore[attr-defined]
        wait_for(lambda: _received(hub) >= 2048, 90)
        agent.kill()
        partial = _received(hub)
        agent.start()
        done = client.wait(request["id"], timeout=120)  # type: ignore[attr-defined]
        assert done["state"] == "ready"
        folder = client.retrieve(request["id"], key, tmp_path / "got")  # type: ignore[attr-defined]
        assert (folder / "students.jsonl").read_text().count("\n") > 0
    finally:
        client.close()  # type: ignore[attr-defined]
        agent.stop()
        hub.stop()
    log = agent.log.read_text()
    resumed = [json.loads(line) for line in log.splitlines() if "agent.upload.resume" in line]
    assert resumed and resumed[0]["offset"] >= partial > 0


def test_an_agent_killed_mid_extract_fails_the_request_clearly(
    tmp_path: Path, sims: SimsSimulator
) -> None:
    sims.configure(latency=1.5)
    hub, agent, school, client, _ = _setup(tmp_path, sims)
    try:
        agent.start()
        request = client.start_extract(school)  # type: ignore[attr-defined]
        entry = wait_for(
            lambda: [e for e in _journal(agent) if e.get("state") == "extracting"], 60
        )[0]
        pid = int(entry["pid"])  # type: ignore[call-overload]
        agent.kill()
        os.kill(pid, 0)  # the Integrator outlived the agent that started it ...
        agent.start()
        done = client.wait(request["id"], timeout=60)  # type: ignore[attr-defined]
        assert done["state"] == "failed"
        assert "the agent stopped during the extract" in done["detail"]
        assert "start a new extract" in done["detail"]

        def gone() -> bool:  # ... and the restarted agent stopped it
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().split()[2] == "Z"

        wait_for(gone, 20)
        # The next extract goes through: nothing was left half-done.
        sims.configure(latency=0.0)
        again = client.start_extract(school)  # type: ignore[attr-defined]
        assert client.wait(again["id"], timeout=120)["state"] == "ready"  # type: ignore[attr-defined]
    finally:
        client.close()  # type: ignore[attr-defined]
        agent.stop()
        hub.stop()


def test_a_hub_killed_mid_upload_loses_nothing(tmp_path: Path, sims: SimsSimulator) -> None:
    hub, agent, school, client, key = _setup(
        tmp_path, sims, "--upload-rate", "4096", chunk_bytes=2048
    )
    try:
        agent.start()
        request = client.start_extract(school)  # type: ignore[attr-defined]
        wait_for(lambda: _received(hub) >= 2048, 90)
        hub.kill()
        time.sleep(1.0)
        hub.start()
        done = client.wait(request["id"], timeout=120)  # type: ignore[attr-defined]
        assert done["state"] == "ready"
        client.retrieve(request["id"], key, tmp_path / "got")  # type: ignore[attr-defined]
        assert client.request(request["id"])["state"] == "acknowledged"  # type: ignore[attr-defined]
    finally:
        client.close()  # type: ignore[attr-defined]
        agent.stop()
        hub.stop()
    log = agent.log.read_text()
    assert "agent.hub_problem" in log  # it noticed, backed off, and came back
    assert "agent.upload.resume" in log
