"""Peak memory of ``misbridge.run`` with a store, by school size: the records stream.

For each size the Wonde simulator serves a generated school in a process of its own
(``misbridge wonde simulate``), and ``misbridge run`` runs in another, into a fresh
SQLite store and extract folder; the run's peak resident memory is read from the kernel
(``ru_maxrss`` of the finished child). The run is done twice: the first apply (every
record created: the plan holds them all, the store's own working set) and an unchanged
night (the plan is empty: only the store's snapshot of ids and digests is held).

    python bench/bench_run.py [--sizes 500,2000,8000] [--json]

Nothing here is pass/fail. What to look for: from 2,000 to 8,000 pupils the growth
should be the store's (its snapshot, and on a first apply the plan), not records held
by the run: an unchanged night at 8,000 pupils holds no record at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"the simulator did not start on port {port}")


def _run(folder: Path, port: int, size: int) -> dict[str, Any]:
    config = folder / "misbridge.toml"
    config.write_text(
        f"""store = "sqlite:///{folder / "misbridge.db"}"
out = "{folder / "extracts"}"
[[school]]
name = "bench"
mis = "wonde"
[school.settings]
school_id = "SCH4321"
base_url = "http://127.0.0.1:{port}/v1.0/"
""",
        encoding="utf-8",
    )
    peak_file = folder / "peak.txt"
    # The run reports its own peak (ru_maxrss of itself), so that no other child of this
    # script (a simulator) can be mistaken for it.
    wrapper = (
        "import resource, sys\n"
        "from misbridge.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        f"    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"    open({str(peak_file)!r}, 'w').write(str(peak))\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, "run", "--config", str(config)],
        env={
            **os.environ,
            "MISBRIDGE_WONDE_TOKEN": "sim-sch4321-token",
            "MISBRIDGE_HOME": str(folder / "home"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 3):
        raise SystemExit(f"the run failed ({done.returncode}): {done.stderr[-2000:]}")
    return {
        "students": size,
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "peak_rss_mb": round(int(peak_file.read_text()) / 1024, 1),
    }


def measure(size: int) -> list[dict[str, Any]]:
    port = _free_port()
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "misbridge",
            "wonde",
            "simulate",
            "--port",
            str(port),
            "--students",
            str(size),
            "--staff",
            str(max(10, size // 20)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, time.monotonic() + 600)
        with tempfile.TemporaryDirectory(prefix="mb-bench-run-") as tmp:
            folder = Path(tmp)
            first = _run(folder, port, size) | {"night": "first apply"}
            again = _run(folder, port, size) | {"night": "unchanged"}
            return [first, again]
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,8000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += measure(size)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'students':>8} {'night':<12} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}")
    for row in rows:
        print(
            f"{row['students']:>8} {row['night']:<12} {row['wall_s']:>7} {row['cpu_s']:>6} "
            f"{row['peak_rss_mb']:>8}"
        )


if __name__ == "__main__":
    main()
