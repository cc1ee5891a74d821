"""The shared benchmark harness: one MIS plugin against its own simulator, on loopback.

A bench script describes a :class:`BenchCase` and calls :func:`run_case`, which

1. builds the deterministic sample school (``misbridge.testing.sample_school``);
2. asks the plugin's ``MisInfo.simulator`` for a stand-in serving it, with an injected
   latency per request (``FaultInjector``), and serves it on a loopback port (in a
   process of its own with ``simulator_process``, ``simserver.py``: then CPU is the
   client's alone);
3. runs the real pipeline twice in this process against the same simulator: *ours*
   (the plugin's default settings, datasets fetched concurrently) and the *baseline*
   (``baseline_settings`` plus ``concurrent_datasets=False``: the way the vendors'
   official clients work, one page after another, one dataset after another);
4. measures each run: wall time, requests answered, CPU, records/s, and (in one more
   run under tracemalloc, so that tracing does not slow the timed one) peak memory;
5. compares the wall time with the *critical path*: the longest chain of requests
   that must wait for one another, times the latency. No client can beat it, so
   ``wall / critical`` says how much of the achievable speed is left on the table.

Nothing here knows about a particular MIS. Benchmarks are never part of the test run's
pass/fail: they print figures (and JSON with ``--json``) for people to read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from attrs import asdict, evolve, field, frozen

from misbridge.model import Dataset
from misbridge.source import SourceSchool

__all__ = [
    "BenchCase",
    "BenchReport",
    "RunFigures",
    "main",
    "print_report",
    "run_case",
]


@frozen
class BenchCase:
    """One benchmark: which MIS, how big a school, how slow a network.

    ``critical_path(school)`` returns the number of requests in the longest chain of
    requests that must wait for each other (authentication, then a count, then a page
    ...); the harness multiplies it by ``latency``. ``baseline_settings`` are the
    plugin settings that make it work like the official clients (e.g. follow ``next``
    one page at a time). ``settings`` apply to both runs; ``simulator_options`` go to the
    simulator factory.
    """

    mis: str
    students: int = 2000
    staff: int = 150
    latency: float = 0.040
    critical_path: Callable[[SourceSchool], int] | None = None
    baseline_settings: Mapping[str, str] = field(factory=dict)
    settings: Mapping[str, str] = field(factory=dict)
    simulator_options: Mapping[str, Any] = field(factory=dict)
    datasets: tuple[Dataset, ...] | None = None
    seed: int = 0
    warmup: bool = True
    memory: bool = True
    #: Serve the simulator from a process of its own (``simserver.py``), so that the CPU
    #: figures are the client's alone; only for a simulator that is a web app.
    simulator_process: bool = False


@frozen
class RunFigures:
    """What one extract cost."""

    label: str
    ok: bool
    wall_s: float
    requests: int
    cpu_s: float
    client_cpu_s: float
    peak_mb: float
    records: int
    records_per_s: float
    datasets: Mapping[str, str]
    message: str | None = None


@frozen
class BenchReport:
    case: BenchCase
    school: Mapping[str, int]
    ours: RunFigures
    baseline: RunFigures
    critical_requests: int | None
    critical_s: float | None

    @property
    def wall_over_critical(self) -> float | None:
        if not self.critical_s:
            return None
        return self.ours.wall_s / self.critical_s

    @property
    def speedup(self) -> float:
        """How many times faster ours is than the official clients' way."""
        return self.baseline.wall_s / self.ours.wall_s if self.ours.wall_s else 0.0

    @property
    def same_records(self) -> bool:
        """Both runs must read the same data, or the comparison means nothing."""
        return self.ours.records == self.baseline.records

    def as_dict(self) -> dict[str, Any]:
        case = {k: v for k, v in asdict(self.case).items() if k != "critical_path"}
        return {
            "case": case,
            "school": dict(self.school),
            "critical_path_requests": self.critical_requests,
            "critical_path_s": self.critical_s,
            "wall_over_critical": self.wall_over_critical,
            "speedup_vs_baseline": self.speedup,
            "same_records": self.same_records,
            "ours": asdict(self.ours),
            "baseline": asdict(self.baseline),
        }


def _peak_mb(
    case: BenchCase,
    settings: Mapping[str, str],
    credentials: Mapping[str, str],
    concurrent: bool,
    pm: Any,
) -> float:
    """The most memory Python held during one more run of the same extract.

    A separate run under tracemalloc: tracing slows every allocation, so it must not be
    the run whose times are reported; and unlike the process's resident size it is not
    inflated by what earlier runs left behind.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        try:
            asyncio.run(_extract(case, settings, credentials, concurrent, pm))
        except Exception:  # the timed run already reported the failure
            return float("nan")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - start) / (1024 * 1024)


class _Box:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


async def _extract(
    case: BenchCase,
    settings: Mapping[str, str],
    credentials: Mapping[str, str],
    concurrent: bool,
    pm: Any,
) -> _Box:
    # The result comes back in a box with a plain repr: asyncio.run builds the repr of
    # its main task (and so of the task's result) when it restores the SIGINT handler,
    # which for a whole school's records costs a measurable share of the run.
    from misbridge.pipeline import extract_async

    result = await extract_async(
        case.mis,
        settings=dict(settings),
        credentials=dict(credentials),
        datasets=case.datasets,
        concurrent_datasets=concurrent,
        pm=pm,
    )
    return _Box(result)


def _run_once(
    label: str,
    case: BenchCase,
    *,
    settings: Mapping[str, str],
    credentials: Mapping[str, str],
    concurrent: bool,
    simulator: Any,
    pm: Any,
    measure_memory: bool = True,
) -> RunFigures:
    gc.collect()
    before_requests = simulator.requests
    error: str | None = None
    result: Any = None
    cpu0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
    try:
        result = asyncio.run(_extract(case, settings, credentials, concurrent, pm)).value
    except Exception as exc:  # a benchmark reports a failed run, it does not crash
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - wall0
    cpu, client_cpu = time.process_time() - cpu0, time.thread_time() - thread0
    requests = simulator.requests - before_requests
    outcomes: dict[str, str] = {}
    records = 0
    ok = False
    if result is not None:
        ok = bool(result.ok)
        for dataset, outcome in result.outcomes.items():
            outcomes[str(dataset)] = str(outcome.status)
            records += int(outcome.records) + int(outcome.rejected)
        if not ok:
            error = (
                "; ".join(f"{d}: {o.message}" for d, o in result.outcomes.items() if o.message)
                or "a dataset did not complete"
            )
    return RunFigures(
        label=label,
        ok=ok,
        wall_s=wall,
        requests=requests,
        cpu_s=cpu,
        client_cpu_s=client_cpu,
        peak_mb=(
            _peak_mb(case, settings, credentials, concurrent, pm)
            if measure_memory and case.memory
            else float("nan")
        ),
        records=records,
        records_per_s=records / wall if wall else 0.0,
        datasets=outcomes,
        message=error,
    )


@contextmanager
def _served(simulator: Any) -> Iterator[Any]:
    from misbridge.simulation import serve_loopback

    try:
        if simulator.app is None:  # a file or process simulator: nothing to serve
            yield simulator.source()
        else:
            with serve_loopback(simulator.app) as base_url:
                yield simulator.source(base_url)
    finally:
        simulator.close()


@contextmanager
def _simulated(case: BenchCase, info: Any, school: SourceSchool) -> Iterator[tuple[Any, Any]]:
    """``(source, counter)``: where the simulator is, and what counts its requests."""
    if case.simulator_process:
        from simserver import served_elsewhere  # bench/ is on the path: run as a script

        with served_elsewhere(
            case.mis,
            students=case.students,
            staff=case.staff,
            latency=case.latency,
            seed=case.seed,
            options=case.simulator_options,
        ) as server:
            yield server, server
        return
    simulator = info.simulator(school, latency=case.latency, **dict(case.simulator_options))
    with _served(simulator) as source:
        yield source, simulator


def run_case(case: BenchCase) -> BenchReport:
    """Run ours and the baseline against one simulator on loopback; see the module doc."""
    from misbridge.logs import configure_logging
    from misbridge.plugins import get_plugin_manager
    from misbridge.sample import sample_school

    # A benchmark is an application: it may configure logging, and per-request debug
    # lines printed to the terminal would be measured as the plugin's cost.
    configure_logging(level=logging.WARNING)
    pm = get_plugin_manager()
    info = pm.info(case.mis)
    if info.simulator is None:
        raise SystemExit(f"the {case.mis} plugin ships no simulator to benchmark against")
    school = sample_school(seed=case.seed, students=case.students, staff=case.staff)
    sizes = {d.value: len(school.records(d)) for d in Dataset}
    sizes["groups_only"] = len(school.groups)
    sizes["memberships"] = len(school.memberships)
    with _simulated(case, info, school) as (source, counter):
        common = {**source.settings, **case.settings}
        runs = {"settings": common, "credentials": source.credentials, "simulator": counter}
        if case.warmup:
            # Imports, first connections and code paths warm up on a throwaway run.
            _run_once("warmup", case, **runs, concurrent=True, pm=pm, measure_memory=False)
        ours = _run_once("ours", case, **runs, concurrent=True, pm=pm)
        runs["settings"] = {**common, **case.baseline_settings}
        baseline = _run_once("baseline", case, **runs, concurrent=False, pm=pm)
    critical_requests = case.critical_path(school) if case.critical_path else None
    return BenchReport(
        case=case,
        school=sizes,
        ours=ours,
        baseline=baseline,
        critical_requests=critical_requests,
        critical_s=critical_requests * case.latency if critical_requests is not None else None,
    )


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def print_report(report: BenchReport, stream: Any = None) -> None:
    """Print the figures as a plain table (copyable into a report or an issue)."""
    out = stream or sys.stdout
    case = report.case
    school = ", ".join(f"{k} {v}" for k, v in report.school.items() if v)
    print(
        f"{case.mis}: sample school seed {case.seed} ({school}); "
        f"latency {case.latency * 1000:.0f} ms per request",
        file=out,
    )
    header = f"{'run':<9}{'wall s':>9}{'requests':>10}{'CPU s':>8}{'client CPU s':>14}"
    header += f"{'peak MB':>9}{'records':>9}{'records/s':>11}  status"
    print(header, file=out)
    for run in (report.ours, report.baseline):
        status = "ok" if run.ok else f"FAILED: {run.message}"
        print(
            f"{run.label:<9}{run.wall_s:>9.2f}{run.requests:>10}{run.cpu_s:>8.2f}"
            f"{run.client_cpu_s:>14.2f}{run.peak_mb:>9.1f}{run.records:>9}"
            f"{run.records_per_s:>11.0f}  {status}",
            file=out,
        )
    chain = "n/a" if report.critical_requests is None else str(report.critical_requests)
    print(
        f"critical path: {chain}"
        f" requests = {_fmt(report.critical_s, 2, ' s')}; "
        f"wall / critical path: {_fmt(report.wall_over_critical)}; "
        f"speed-up vs baseline: {report.speedup:.2f}x",
        file=out,
    )
    if not report.same_records:
        print(
            f"WARNING: the runs read different record counts ({report.ours.records} vs "
            f"{report.baseline.records}); the comparison is not like for like",
            file=out,
        )


def main(case: BenchCase, argv: Sequence[str] | None = None) -> BenchReport:
    """A bench script's command line: size, latency and output overrides for ``case``."""
    parser = argparse.ArgumentParser(description=f"Benchmark the {case.mis} plugin.")
    parser.add_argument("--students", type=int, default=case.students)
    parser.add_argument("--staff", type=int, default=case.staff)
    parser.add_argument("--latency-ms", type=float, default=case.latency * 1000)
    parser.add_argument("--seed", type=int, default=case.seed)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the extra runs that measure memory"
    )
    parser.add_argument(
        "--simulator-process",
        action="store_true",
        help="serve the simulator from a process of its own (CPU figures: the client's alone)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    case = evolve(
        case,
        students=args.students,
        staff=args.staff,
        latency=args.latency_ms / 1000,
        seed=args.seed,
        warmup=case.warmup and not args.no_warmup,
        memory=case.memory and not args.no_memory,
        simulator_process=case.simulator_process or args.simulator_process,
    )
    report = run_case(case)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print_report(report)
    return report
