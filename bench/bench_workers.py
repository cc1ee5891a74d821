"""An integrator's night: N small worker-run schools through two Celery workers.

A hub process (``misbridge hub serve``, SQLite), two ``misbridge worker`` processes
(``--concurrency`` each) on a Redis broker, and the Wonde simulator (40 ms before each
answer) on a loopback port, in this process, counting the requests it answers each
second. Every school is started at once (Start Extract for each, as a schedule's slot
would), then followed to ``ready``. Reported: schools per minute, p50/p99 from Start
Extract to ready per school, the broker's memory (Redis ``used_memory`` peak), the
workers' and the hub's peak memory (PSS of each process tree), and the busiest second at
the simulator against the shared limit.

    python bench/bench_workers.py [--schools 500] [--students 20] [--concurrency 2]
        [--rate 40] [--latency-ms 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis
import sqlalchemy as sa

REDIS = "redis://127.0.0.1:6379/0"
MISBRIDGE = [sys.executable, "-c", "from misbridge.cli import main; main()"]


class Counted:
    def __init__(self, app: Any) -> None:
        self.app, self.times, self.lock = app, [], threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self.lock:
                self.times.append(time.monotonic())
        await self.app(scope, receive, send)

    def busiest_second(self) -> int:
        times, most, start = sorted(self.times), 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        return sum(p.memory_full_info().pss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISBRIDGE_")}
    return {**env, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=500)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rate", type=float, default=40.0, help="the workers' rule, req/s")
    parser.add_argument(
        "--vendor-limit",
        type=int,
        default=45,
        help="what the (simulated) vendor tolerates in any second; the rule is set under it",
    )
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from misbridge.hub import accounts, schema, workers
    from misbridge.hub.client import IntegratorClient, IntegratorKey
    from misbridge.hub.database import open_database, utcnow
    from misbridge.hub.schools import create_school
    from misbridge.simulation import serve_loopback
    from misbridge.testing.school import sample_school
    from misbridge.worker.job import new_key
    from misbridge_wonde.simulator import WondeSimulator

    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    simulator = WondeSimulator(
        sample_school(seed=1, students=args.students, staff=3), latency=args.latency_ms / 1000
    )
    counted = Counted(simulator.app)
    broker = redis.Redis.from_url(REDIS)
    prefix = f"mbbench-{uuid.uuid4().hex[:6]}."
    processes: list[subprocess.Popen[bytes]] = []
    with serve_loopback(counted) as url:
        source = simulator.source(url)
        database = f"sqlite:///{folder / 'hub.db'}"
        engine = open_database(database)
        now = utcnow()
        public = new_key(folder / "workers.key")
        tokens = [
            workers.create_worker(engine, now, None, f"w{n}", public)["token"] for n in (1, 2)
        ]
        ids = []
        for n in range(args.schools):
            made = create_school(
                engine,
                now,
                None,
                f"school {n}",
                "wonde",
                runner="worker",
                settings=dict(source.settings),
            )
            workers.set_credentials(engine, now, None, made["id"], dict(source.credentials))
            ids.append(made["id"])
        user = accounts.create_user(engine, now, None, "bench", ["import-data"])
        api_token = accounts.create_token(engine, now, None, user["id"])[1]
        port = _port()
        hub_url = f"http://127.0.0.1:{port}"
        hub_env = _env(
            MISBRIDGE_HUB_BROKER_URL=REDIS,
            MISBRIDGE_HUB_QUEUE_PREFIX=prefix,
            MISBRIDGE_HUB_SWEEP_SECONDS="1",
        )
        hub = subprocess.Popen(
            [
                *MISBRIDGE,
                "hub",
                "serve",
                "--database",
                database,
                "--port",
                str(port),
                "--storage",
                str(folder / "uploads"),
                "--key-file",
                str(folder / "signing.key"),
            ],
            env=hub_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(hub)
        for _ in range(300):
            try:
                httpx.get(hub_url + "/api/v1/hub", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        host = source.settings["base_url"].split("/")[2]
        for n, token in enumerate(tokens):
            processes.append(
                subprocess.Popen(
                    [
                        *MISBRIDGE,
                        "worker",
                        "--hub",
                        hub_url,
                        "--broker",
                        REDIS,
                        "--key-file",
                        str(folder / "workers.key"),
                        "--queue-prefix",
                        prefix,
                        "--concurrency",
                        str(args.concurrency),
                        "--rate-limit",
                        f"{host}={args.rate:g}/token",
                        "--work-dir",
                        str(folder / f"work{n}"),
                    ],
                    env=_env(MISBRIDGE_WORKER_TOKEN=token, MISBRIDGE_HOME=str(folder / f"h{n}")),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        client = IntegratorClient(hub_url, api_token)
        client.register_key(IntegratorKey.generate())
        broker_before = int(broker.info("memory")["used_memory"])
        started = time.monotonic()
        begun: dict[str, float] = {}
        for school in ids:
            request = client.start_extract(school)
            begun[request["id"]] = time.monotonic()
        peaks = {"hub": 0, "workers": 0, "broker": broker_before}
        ready: dict[str, float] = {}
        r = schema.extract_request
        deadline = time.monotonic() + 3600
        while len(ready) < len(begun) and time.monotonic() < deadline:
            with engine.connect() as conn:
                for row in conn.execute(
                    sa.select(r.c.id, r.c.state, r.c.finished_at, r.c.updated_at)
                ):
                    if row.state in ("ready", "failed") and row.id not in ready:
                        ready[row.id] = time.monotonic()
            peaks["hub"] = max(peaks["hub"], _pss(hub.pid))
            peaks["workers"] = max(peaks["workers"], sum(_pss(p.pid) for p in processes[1:]))
            peaks["broker"] = max(peaks["broker"], int(broker.info("memory")["used_memory"]))
            time.sleep(0.5)
        wall = time.monotonic() - started
        with engine.connect() as conn:
            states = dict(
                conn.execute(sa.select(r.c.state, sa.func.count()).group_by(r.c.state)).all()
            )
        client.close()
        for process in processes[1:]:
            os.killpg(process.pid, signal.SIGTERM)
        hub.terminate()
        for process in processes:
            process.wait(30)
    latencies = sorted(ready[k] - begun[k] for k in ready)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    figures = {
        "schools": args.schools,
        "students": args.students,
        "workers": 2,
        "concurrency_each": args.concurrency,
        "latency_ms": args.latency_ms,
        "states": states,
        "wall_s": round(wall, 1),
        "schools_per_minute": round(len(ready) / wall * 60, 1),
        "p50_s": pct(0.50),
        "p99_s": pct(0.99),
        "hub_peak_mb": round(peaks["hub"] / 2**20, 1),
        "workers_peak_mb": round(peaks["workers"] / 2**20, 1),
        "broker_used_memory_mb": round(broker_before / 2**20, 2),
        "broker_peak_memory_mb": round(peaks["broker"] / 2**20, 2),
        "simulator_requests": len(counted.times),
        "busiest_second": counted.busiest_second(),
        "rate_rule_per_second": args.rate,
        "vendor_limit_per_second": args.vendor_limit,
        "vendor_limit_exceeded": counted.busiest_second() > args.vendor_limit,
        "loadavg": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
