"""A trust's schools over several processes: one dispatcher, worker processes forked once.

The dispatcher (the ``misbridge run`` process) keeps the bounds: a school is handed to
the least busy worker only while fewer than ``concurrency`` schools run in all and fewer
than ``per_host`` against its host. Each worker runs the schools it is given on its own
asyncio loop and sends each one's outcome back as it ends. Workers are forked after
the imports (start-up is paid once); where ``fork`` does not exist they are spawned,
paying it once per process. A worker that dies takes only its own schools with it:
they are reported failed, the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from typing import Any

from misbridge.jobs.config import Config, SchoolConfig
from misbridge.jobs.result import EXIT_FAILED
from misbridge.jobs.trust import (
    SchoolOutcome,
    TrustResult,
    _claimants,
    _run_one,
    host_of,
)

__all__ = ["run_in_processes"]


def _worker(
    conn: Connection, schools: Sequence[SchoolConfig], claim: set[str], options: dict[str, Any]
) -> None:
    """A worker process: run the schools the dispatcher names, report each outcome."""
    from misbridge.plugins import get_plugin_manager

    plugins = get_plugin_manager()
    send_lock = threading.Lock()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task[None]] = set()

        async def one(index: int) -> None:
            school = schools[index]
            outcome = await _run_one(
                school, host_of(school, plugins), plugins, school.name in claim, dict(options)
            )
            try:
                with send_lock:
                    conn.send(("done", index, outcome))
            except Exception:  # a result that does not pickle: send its counts only
                outcome.result = None
                with send_lock:
                    conn.send(("done", index, outcome))

        while True:
            message = await loop.run_in_executor(None, conn.recv)
            if message[0] == "stop":
                break
            task = asyncio.create_task(one(int(message[1])))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)

    try:
        asyncio.run(main())
    finally:
        conn.close()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_in_processes(
    config: Config,
    schools: Sequence[SchoolConfig],
    count: int,
    *,
    pm: Any = None,
    on_done: Callable[[SchoolOutcome], None] | None,
    options: dict[str, Any],
) -> TrustResult:
    from misbridge.plugins import get_plugin_manager

    plugins = pm or get_plugin_manager()
    started = datetime.now(UTC)
    settings = config.run
    may_claim, early = _claimants(schools)
    hosts = [host_of(s, plugins) for s in schools]
    context = _context()
    workers: list[tuple[Any, Connection]] = []
    for _ in range(count):
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker, args=(child, list(schools), may_claim, options), daemon=True
        )
        process.start()
        child.close()
        workers.append((process, parent))
    pending = list(range(len(schools)))
    # The claimants of a store holding a legacy school go first, alone on that store.
    blocked = {
        i for i, s in enumerate(schools) if s.name not in early and _shares(s, early, schools)
    }
    in_flight: dict[int, set[int]] = {w: set() for w in range(count)}
    by_host: dict[str, int] = {}
    outcomes: dict[int, SchoolOutcome] = {}
    alive = set(range(count))
    begun: dict[int, float] = {}

    def dispatch() -> None:
        for index in list(pending):
            running = sum(len(v) for v in in_flight.values())
            if running >= settings.concurrency or not alive:
                return
            if index in blocked or by_host.get(hosts[index], 0) >= settings.per_host:
                continue
            target = min(alive, key=lambda w: len(in_flight[w]))
            workers[target][1].send(("run", index))
            pending.remove(index)
            in_flight[target].add(index)
            by_host[hosts[index]] = by_host.get(hosts[index], 0) + 1
            begun[index] = time.monotonic()

    def finished(worker: int, index: int, outcome: SchoolOutcome) -> None:
        in_flight[worker].discard(index)
        by_host[hosts[index]] -= 1
        outcomes[index] = outcome
        if schools[index].name in early:
            store = schools[index].store
            blocked.difference_update(i for i, s in enumerate(schools) if s.store == store)
        if on_done is not None:
            on_done(outcome)

    try:
        dispatch()
        while len(outcomes) < len(schools):
            ready = wait([workers[w][1] for w in alive])
            for ready_conn in ready:
                worker = next(w for w in alive if workers[w][1] is ready_conn)
                try:
                    message: tuple[str, int, SchoolOutcome] = workers[worker][1].recv()
                    _, index, outcome = message
                except (EOFError, OSError):
                    alive.discard(worker)
                    code = workers[worker][0].exitcode
                    for lost in sorted(in_flight[worker]):
                        finished(worker, lost, _died(schools[lost], hosts[lost], begun, lost, code))
                    continue
                finished(worker, index, outcome)
            if not alive:
                for index in list(pending):
                    pending.remove(index)
                    outcomes[index] = _died(schools[index], hosts[index], begun, index, None)
            dispatch()
    finally:
        for _process, conn in workers:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("stop",))
        for process, conn in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
            conn.close()
    return TrustResult(
        [outcomes[i] for i in range(len(schools))], started, datetime.now(UTC), processes=count
    )


def _shares(school: SchoolConfig, early: list[str], schools: Sequence[SchoolConfig]) -> bool:
    stores = {s.store for s in schools if s.name in early}
    return school.store in stores


def _died(
    school: SchoolConfig, host: str, begun: dict[int, float], index: int, code: int | None
) -> SchoolOutcome:
    seconds = time.monotonic() - begun.get(index, time.monotonic())
    why = f" (exit code {code})" if code is not None else ""
    return SchoolOutcome(
        school.name,
        school.mis,
        host,
        "failed",
        EXIT_FAILED,
        seconds,
        message=f"the worker process running this school died{why}; run it again",
    )
