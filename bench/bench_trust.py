"""A trust on one machine: ``misbridge run`` over N Wonde schools sharing one store.

The simulator (one Wonde API serving every school, with 40 ms before each answer) runs
in a process of its own, warmed up first so that its rendering is not timed; then
``misbridge run`` runs as a real command, twice: the first night (every record new)
and an unchanged second night. Reported for each: wall time, the peak memory of the
``misbridge run`` process and its worker processes together (PSS, so that the pages the
forked workers share are counted once; sampled every 50 ms with psutil), and the CPU
they used.

    python bench/bench_trust.py [--schools 30] [--students 2000] [--latency-ms 40]
        [--processes 0] [--concurrency 4] [--per-host 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

TOKEN = "bench-trust-token"


def _serve(schools: int, students: int, latency: float, port: int, ready: Any) -> None:
    import logging

    logging.disable(logging.WARNING)
    from misbridge.simulation import serve_loopback
    from misbridge.testing.school import sample_school
    from misbridge_wonde.simulator import WondeSimulator

    made = [sample_school(seed=n, students=students, staff=150) for n in range(schools)]
    simulator = WondeSimulator(made[0], token=TOKEN, latency=latency, other_schools=made[1:])
    with serve_loopback(simulator.app, port=port) as url:
        ready.send([url, [s.mis_id for s in made]])
        while True:
            time.sleep(1)


def _warm(url: str, ids: list[str]) -> None:
    """Read every school once through the plugin, so the simulator has rendered it all."""
    import asyncio

    from misbridge.pipeline import extract_async

    async def all_of() -> None:
        for school_id in ids:
            await extract_async(
                "wonde",
                settings={"school_id": school_id, "base_url": url + "/v1.0/"},
                credentials={"token": TOKEN},
                collect=False,
            )

    asyncio.run(all_of())


def _measure(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    root = psutil.Process(process.pid)
    peak = 0
    cpu: dict[int, float] = {}
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            total = 0
            for p in tree:
                with p.oneshot():
                    # PSS: pages shared by forked workers counted once, not per process.
                    total += p.memory_full_info().pss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode() if process.stdout else ""
    return {
        "wall_s": round(wall, 2),
        "peak_mb": round(peak / 2**20, 1),
        "cpu_s": round(sum(cpu.values()), 2),
        "exit_code": process.returncode,
        "tail": output.strip().splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(args.schools, args.students, args.latency_ms / 1000, port, child)
    )
    server.start()
    try:
        url, ids = parent.recv()
        httpx.get(url + "/v1.0/", timeout=5)
        warm = time.perf_counter()
        _warm(url, ids)
        warm_s = time.perf_counter() - warm
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            config = base / "misbridge.toml"
            config.write_text(
                f'store = "sqlite:///{base / "trust.db"}"\nout = "{base / "out"}"\n'
                f"[run]\nconcurrency = {args.concurrency}\nper_host = {args.per_host}\n"
                f"processes = {args.processes}\n"
                + "".join(
                    f'[[school]]\nname = "school-{n:02d}"\nmis = "wonde"\n'
                    f'[school.settings]\nschool_id = "{sid}"\nbase_url = "{url}/v1.0/"\n'
                    for n, sid in enumerate(ids)
                ),
                encoding="utf-8",
            )
            env = {
                **os.environ,
                "MISBRIDGE_HOME": str(base / "home"),
                "MISBRIDGE_WONDE_TOKEN": TOKEN,
            }
            command = [
                *(sys.executable, "-c", "from misbridge.cli import main; main()"),
                *("run", "--config", str(config)),
            ]
            first = _measure(command, env)
            second = _measure(command, env)
        figures = {
            "schools": args.schools,
            "students": args.students,
            "latency_ms": args.latency_ms,
            "processes": args.processes or os.cpu_count(),
            "concurrency": args.concurrency,
            "per_host": args.per_host,
            "simulator_warm_up_s": round(warm_s, 1),
            "first_night": first,
            "unchanged_night": second,
            "loadavg": os.getloadavg(),
        }
    finally:
        server.terminate()
        server.join(10)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.schools} Wonde schools x {args.students} pupils, {args.latency_ms:g} ms")
    for name in ("first_night", "unchanged_night"):
        f = figures[name]
        print(
            f"  {name:<16} wall {f['wall_s']:>6} s  peak {f['peak_mb']:>6} MB  "
            f"CPU {f['cpu_s']:>6} s  exit {f['exit_code']}"
        )
    print(f"  load average {figures['loadavg']}")


if __name__ == "__main__":
    main()
