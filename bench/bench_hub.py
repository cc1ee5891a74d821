"""Hub benchmark: many agents long-polling one hub process, and concurrent sealed uploads.

    python bench/bench_hub.py [--agents 1000] [--samples 60] [--uploads 50]
        [--students 2000] [--postgres URL] [--json]

The hub runs as its own process (``misbridge hub serve`` on a loopback port, one
uvicorn worker) so that its memory is measured alone; the agents and uploaders are
asyncio tasks in this process.

1. *Long polls*: ``--agents`` schools, each with an activated agent holding a long poll
   (the hub holds it 50 s, then the agent polls again). Reported: the hub's resident
   memory idle and with every agent connected, hence memory per connected agent; and,
   for ``--samples`` Start Extracts on random schools one after another, the latency
   from the Start Extract call to the job reaching that school's agent (p50, p99).
2. *Uploads*: ``--uploads`` requests at once, each uploading a sealed extract of a
   ``--students`` school (built through the real pipeline from the Wonde simulator and
   sealed with the real envelope) in 1 MiB chunks, then completing it. Reported:
   wall time, throughput, the hub's peak resident memory.

Figures are for people to read; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from misbridge.hub import accounts, extracts, schools
from misbridge.hub.database import open_database, utcnow
from misbridge.hub.envelope import seal_folder
from misbridge.hub.principals import Agent
from misbridge.hub.protocol import agent_token_info, content_digest
from misbridge.logs import configure_logging
from misbridge.vault.keys import key_id
from misbridge.vault.sealing import hpke_open

MISBRIDGE = [sys.executable, "-c", "from misbridge.cli import main; main()"]
CHUNK = 1024 * 1024


def _b64(key: X25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Hub:
    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.database_url = folder, url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.engine = open_database(url)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MISBRIDGE_")},
            "MISBRIDGE_HUB_POLL_HOLD_SECONDS": "50",
            "MISBRIDGE_HUB_CHUNK_BYTES": str(CHUNK),
        }
        command = [*MISBRIDGE, "hub", "serve", "--database", self.database_url]
        command += ["--port", str(self.port), "--storage", str(self.folder / "uploads")]
        command += ["--key-file", str(self.folder / "key")]
        log = (self.folder / "hub.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        for _ in range(300):
            try:
                httpx.get(f"{self.url}/api/v1/hub", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("the hub did not start; see hub.log")

    def rss(self) -> int:
        assert self.process is not None
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.engine.dispose()


def _setup_agents(hub: Hub, n: int) -> tuple[str, dict[str, str]]:
    now = utcnow()
    user = accounts.create_user(hub.engine, now, None, "bench", ["import-data"])
    token = accounts.create_token(hub.engine, now, None, user["id"])[1]
    principal = accounts.authenticate(hub.engine, now, token, via="api")
    accounts.set_public_key(hub.engine, now, principal, _b64(X25519PrivateKey.generate()))  # type: ignore[arg-type]
    agents: dict[str, str] = {}
    for i in range(n):
        school = schools.create_school(hub.engine, now, None, f"School {i:04d}", "sims")["id"]
        code = schools.create_activation_code(hub.engine, now, None, school, timedelta(hours=1))[0]
        key = X25519PrivateKey.generate()
        answer = schools.activate_agent(
            hub.engine, now, code, _b64(key), version="bench", hostname=None
        )
        info = agent_token_info(answer["agent_id"], school, answer["kid"])
        agents[school] = hpke_open(base64.b64decode(answer["sealed_token"]), key, info).decode()
    return token, agents


async def _long_polls(hub: Hub, agents: dict[str, str], user: str, samples: int) -> dict[str, Any]:
    limits = httpx.Limits(
        max_connections=len(agents) + 50, max_keepalive_connections=len(agents) + 50
    )
    received: dict[str, asyncio.Future[float]] = {}
    connected = 0
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=hub.url + "/api/v1", limits=limits, timeout=90) as http:

        async def agent(school: str, token: str) -> None:
            nonlocal connected
            headers = {"Authorization": f"Bearer {token}"}
            first = True
            while not stop.is_set():
                poll = asyncio.create_task(
                    http.get("/agent/jobs", params={"wait": 50}, headers=headers)
                )
                if first:
                    connected += 1
                    first = False
                done, _ = await asyncio.wait(
                    {poll, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
                )
                if poll not in done:
                    poll.cancel()
                    return
                jobs = poll.result().json().get("jobs", [])
                for job in jobs:
                    at = time.perf_counter()
                    await http.post(f"/agent/jobs/{job['request_id']}/claim", headers=headers)
                    future = received.get(job["request_id"])
                    if future is not None and not future.done():
                        future.set_result(at)

        tasks = [asyncio.create_task(agent(s, t)) for s, t in agents.items()]
        idle = hub.rss()
        while connected < len(agents):
            await asyncio.sleep(0.2)
        await asyncio.sleep(8)  # every poll reaches the hub and is held
        loaded = hub.rss()
        latencies = []
        chosen = random.Random(1).sample(sorted(agents), samples)
        for school in chosen:
            started = time.perf_counter()
            answer = await http.post(
                f"/schools/{school}/extracts", json={}, headers={"Authorization": f"Bearer {user}"}
            )
            request_id = answer.json()["id"]
            future = received.setdefault(request_id, asyncio.get_running_loop().create_future())
            at = await asyncio.wait_for(future, 30)
            latencies.append(at - started)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    return {
        "agents": len(agents),
        "hub_rss_idle_mb": round(idle / 2**20, 1),
        "hub_rss_connected_mb": round(loaded / 2**20, 1),
        "kb_per_connected_agent": round((loaded - idle) / len(agents) / 1024, 1),
        "notify_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "notify_p99_ms": round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1
        ),
        "samples": len(latencies),
    }


def _sealed_extract(students: int, folder: Path) -> tuple[bytes, X25519PrivateKey]:
    from misbridge.output import JsonlSink, write_extract_files
    from misbridge.pipeline import extract_async
    from misbridge.plugins import get_plugin_manager
    from misbridge.simulation import serve_loopback
    from misbridge.testing.school import sample_school

    info = get_plugin_manager().info("wonde")
    assert info.simulator is not None
    simulator = info.simulator(sample_school(students=students, staff=150))
    out = folder / "extract"
    sink = JsonlSink(out)
    with serve_loopback(simulator.app) as base_url:  # type: ignore[arg-type]
        source = simulator.source(base_url)
        result = asyncio.run(
            extract_async(
                "wonde",
                settings=source.settings,
                credentials=source.credentials,
                sink=sink,
                collect=False,
            )
        )
    sink.close()
    write_extract_files(result, out)
    key = X25519PrivateKey.generate()
    sealed = io.BytesIO()
    seal_folder(
        out,
        sealed,
        key.public_key(),
        request_id="req_" + "0" * 24,
        school_id="sch_" + "0" * 24,
        kid=key_id(key.public_key()),
    )
    return sealed.getvalue(), key


def _setup_uploads(hub: Hub, n: int) -> list[tuple[str, str]]:
    now = utcnow()
    user = accounts.create_user(hub.engine, now, None, "uploader", ["import-data"])
    token = accounts.create_token(hub.engine, now, None, user["id"])[1]
    principal = accounts.authenticate(hub.engine, now, token, via="api")
    accounts.set_public_key(hub.engine, now, principal, _b64(X25519PrivateKey.generate()))  # type: ignore[arg-type]
    runs = []
    for i in range(n):
        school = schools.create_school(hub.engine, now, None, f"Upload school {i}", "wonde")["id"]
        code = schools.create_activation_code(hub.engine, now, None, school, timedelta(hours=1))[0]
        answer = schools.activate_agent(
            hub.engine, now, code, _b64(X25519PrivateKey.generate()), version=None, hostname=None
        )
        request, _ = extracts.start_extract(hub.engine, now, principal, school, None)
        agent = Agent(answer["agent_id"], school, "bench")
        extracts.claim(hub.engine, now, agent, request["id"])
        issued = extracts.issue_integrator_token(
            hub.engine, now, agent, request["id"], timedelta(hours=1)
        )
        runs.append((request["id"], issued["token"]))
    return runs


async def _uploads(hub: Hub, runs: list[tuple[str, str]], payload: bytes) -> dict[str, Any]:
    sha = hashlib.sha256(payload).hexdigest()
    peak = 0
    sampling = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampling.is_set():
            peak = max(peak, hub.rss())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    limits = httpx.Limits(max_connections=len(runs) + 10)
    async with httpx.AsyncClient(base_url=hub.url + "/api/v1", limits=limits, timeout=300) as http:

        async def upload(request_id: str, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            await http.post(
                f"/runs/{request_id}/upload",
                json={"size": len(payload), "sha256": sha},
                headers=headers,
            )
            for offset in range(0, len(payload), CHUNK):
                part = payload[offset : offset + CHUNK]
                r = await http.patch(
                    f"/runs/{request_id}/upload",
                    content=part,
                    headers={
                        **headers,
                        "Upload-Offset": str(offset),
                        "Content-Digest": content_digest(part),
                    },
                )
                r.raise_for_status()
            done = await http.post(
                f"/runs/{request_id}/upload/complete",
                json={"datasets": ["students"]},
                headers=headers,
            )
            done.raise_for_status()

        before = hub.rss()
        sampler.start()
        started = time.perf_counter()
        await asyncio.gather(*(upload(r, t) for r, t in runs))
        wall = time.perf_counter() - started
        sampling.set()
        sampler.join()
    total = len(payload) * len(runs)
    return {
        "uploads": len(runs),
        "sealed_mb_each": round(len(payload) / 2**20, 2),
        "wall_s": round(wall, 2),
        "throughput_mb_s": round(total / 2**20 / wall, 1),
        "hub_rss_before_mb": round(before / 2**20, 1),
        "hub_rss_peak_mb": round(peak / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--postgres", default=None, help="Run the hub on this PostgreSQL database.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="misbridge-bench-hub-") as scratch:
        folder = Path(scratch)
        url = args.postgres or f"sqlite:///{folder / 'hub.db'}"
        hub = Hub(folder, url)
        try:
            user, agents = _setup_agents(hub, args.agents)
            runs = _setup_uploads(hub, args.uploads)
            payload, _ = _sealed_extract(args.students, folder)
            hub.start()
            polls = asyncio.run(_long_polls(hub, agents, user, min(args.samples, args.agents)))
            uploads = asyncio.run(_uploads(hub, runs, payload))
        finally:
            hub.stop()
    report = {
        "database": "postgresql" if args.postgres else "sqlite",
        "long_polls": polls,
        "uploads": uploads,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"hub on {report['database']}, one uvicorn worker, this machine ({os.cpu_count()} cores)")
    print(
        f"  {polls['agents']} agents long-polling: hub RSS {polls['hub_rss_idle_mb']} MB idle, "
        f"{polls['hub_rss_connected_mb']} MB connected = "
        f"{polls['kb_per_connected_agent']} KB per agent"
    )
    print(
        f"  Start Extract -> agent ({polls['samples']} samples): p50 {polls['notify_p50_ms']} ms, "
        f"p99 {polls['notify_p99_ms']} ms"
    )
    print(
        f"  {uploads['uploads']} concurrent uploads of {uploads['sealed_mb_each']} MB (sealed "
        f"{args.students}-pupil extract): {uploads['wall_s']} s, "
        f"{uploads['throughput_mb_s']} MB/s, "
        f"hub RSS {uploads['hub_rss_before_mb']} -> peak {uploads['hub_rss_peak_mb']} MB"
    )


if __name__ == "__main__":
    main()
