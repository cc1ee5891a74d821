"""A plugin's simulator served from a process of its own, for benchmarks.

With the simulator in the measuring process, its thread's CPU (uvicorn, the JSON it
renders) is counted by ``process_time()`` and competes with the client for the GIL, so
a client's CPU figure is not the client's alone. :func:`served_elsewhere` starts this
module as a child process serving the sample school on a loopback port and hands back
how to reach it; the child answers ``requests`` lines on its stdin with the number of
requests it has answered so far.

    python bench/simserver.py --mis wonde --students 2000 --staff 150 --latency-ms 40
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["ServerProcess", "serve", "served_elsewhere"]


def serve(
    mis: str,
    students: int,
    staff: int,
    latency: float,
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Serve ``mis``'s simulator; print how to reach it; answer ``requests`` on stdin."""
    import logging

    from misbridge.logs import configure_logging
    from misbridge.plugins import get_plugin_manager
    from misbridge.sample import sample_school
    from misbridge.simulation import serve_loopback

    configure_logging(level=logging.WARNING)
    info = get_plugin_manager().info(mis)
    if info.simulator is None:
        raise SystemExit(f"the {mis} plugin ships no simulator")
    school = sample_school(seed=seed, students=students, staff=staff)
    simulator = info.simulator(school, latency=latency, **dict(options or {}))
    if simulator.app is None:
        raise SystemExit(f"the {mis} simulator is not a web app: it cannot be served")
    with serve_loopback(simulator.app) as url:
        source = simulator.source(url)
        print(
            json.dumps({"settings": dict(source.settings), "credentials": source.credentials}),
            flush=True,
        )
        for line in sys.stdin:
            if line.strip() == "requests":
                print(simulator.requests, flush=True)
    simulator.close()


class ServerProcess:
    """The child serving a simulator: where it is, and how many requests it answered."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._process = process
        self._stdin, self._stdout = process.stdin, process.stdout
        line = self._stdout.readline()
        if not line:
            raise SystemExit("the simulator process did not start (see its error above)")
        source = json.loads(line)
        self.settings: dict[str, str] = source["settings"]
        self.credentials: dict[str, str] = source["credentials"]

    @property
    def requests(self) -> int:
        self._stdin.write("requests\n")
        self._stdin.flush()
        return int(self._stdout.readline())

    def close(self) -> None:
        self._stdin.close()
        self._process.wait(timeout=30)


@contextmanager
def served_elsewhere(
    mis: str,
    *,
    students: int,
    staff: int,
    latency: float,
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> Iterator[ServerProcess]:
    """``mis``'s simulator serving the sample school from a child process."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            f"--mis={mis}",
            f"--students={students}",
            f"--staff={staff}",
            f"--latency-ms={latency * 1000}",
            f"--seed={seed}",
            f"--options={json.dumps(dict(options or {}))}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server = ServerProcess(process)
    except BaseException:
        process.kill()
        process.wait(timeout=30)
        raise
    try:
        yield server
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mis", required=True)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--options", default="{}", help="simulator options, as JSON")
    args = parser.parse_args()
    serve(
        args.mis,
        args.students,
        args.staff,
        args.latency_ms / 1000,
        args.seed,
        json.loads(args.options),
    )


if __name__ == "__main__":
    main()
