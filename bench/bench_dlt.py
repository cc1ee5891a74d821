"""dlt's rest_api source beside misbridge, against the same Wonde simulator on loopback.

    pip install -e '.[bench]'          # dlt[duckdb], for this script only
    python bench/bench_dlt.py [--students 2000] [--staff 150] [--latency-ms 40]
        [--repeat 3] [--json]

The simulator (misbridge's own Wonde stand-in, ``latency`` before every answer, served
by uvicorn on a loopback port) runs in a process of its own, so that a figure's CPU is
the client's alone: ``process_time()`` counts every thread of the measuring process (dlt's
load threads, duckdb's) and none of the simulator's. Each variant runs in a fresh process:
one warm-up (imports, first connections), then ``--repeat`` timed runs; medians printed.

Both clients read the same pages: the lists misbridge's Wonde extract reads, with the same
``include`` and ``per_page`` (200), following ``meta.pagination.next`` with a bearer token:

- groups (twice: misbridge reads them for the year groups and for the groups), employees
  with their details, students with theirs, classes with subject and employees, students
  and employees with their groups and classes (the memberships);
- plus the school record; misbridge also asks ``/counts`` (one request), to prove each
  list whole and to ask for every page at once (8 in flight), where dlt follows ``next``
  one page after another.

Variants: ``misbridge`` (extract + normalise + validate, records in memory),
``misbridge+sqlite`` (the same, then plan and apply into a new SQLite store),
``dlt extract`` (``pipeline.extract``: pages to dlt's extracted files), ``dlt run`` (extract
+ normalize + load into a new duckdb file, dlt's default nesting: child tables for nested
lists) and ``dlt run nesting=0`` (``max_table_nesting=0``: nested values kept as JSON).
dlt's telemetry is turned off for the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from simserver import served_elsewhere  # bench/ is on the path: run as a script

PER_PAGE = 200
TODAY = date(2026, 10, 1)
VARIANTS = ("misbridge", "misbridge+sqlite", "dlt extract", "dlt run", "dlt run nesting=0")


# -- what each variant runs -------------------------------------------------------------
def dlt_config(source: Mapping[str, Any]) -> dict[str, Any]:
    """dlt's rest_api configuration for the pages misbridge's Wonde extract reads."""
    from misbridge_wonde.extract import (
        CLASS_INCLUDES,
        MEMBER_INCLUDES,
        STAFF_INCLUDES,
        STUDENT_INCLUDES,
    )

    school = source["settings"]["school_id"]

    def listing(name: str, path: str, include: tuple[str, ...] = ()) -> dict[str, Any]:
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if include:
            params["include"] = ",".join(include)
        return {"name": name, "endpoint": {"path": f"schools/{school}/{path}", "params": params}}

    return {
        "client": {
            "base_url": source["settings"]["base_url"],
            "auth": {"type": "bearer", "token": source["credentials"]["token"]},
            "paginator": {"type": "json_link", "next_url_path": "meta.pagination.next"},
        },
        "resource_defaults": {
            "write_disposition": "replace",
            "endpoint": {"data_selector": "data"},
        },
        "resources": [
            {
                "name": "school",
                "endpoint": {"path": f"schools/{school}", "paginator": "single_page"},
            },
            listing("year_groups", "groups"),
            listing("employees", "employees", STAFF_INCLUDES),
            listing("students", "students", STUDENT_INCLUDES),
            listing("groups", "groups"),
            listing("classes", "classes", CLASS_INCLUDES),
            listing("student_memberships", "students", MEMBER_INCLUDES),
            listing("employee_memberships", "employees", MEMBER_INCLUDES),
        ],
    }


def _dlt_runner(source: Mapping[str, Any], *, extract_only: bool, nesting: int | None) -> Any:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    counter = [0]

    def once() -> dict[str, Any]:
        counter[0] += 1
        folder = Path(tempfile.mkdtemp(prefix="bench-dlt-"))
        pipeline = dlt.pipeline(
            pipeline_name=f"wonde_{os.getpid()}_{counter[0]}",
            pipelines_dir=str(folder / "pipelines"),
            destination=dlt.destinations.duckdb(str(folder / "bench.duckdb")),
            dataset_name="roster",
        )
        rest = rest_api_source(dlt_config(source), max_table_nesting=nesting)  # type: ignore[arg-type]
        if extract_only:
            info = pipeline.extract(rest)
            rows = _extracted_rows(info)
            return {"rows": sum(rows.values()), "tables": len(rows)}
        pipeline.run(rest)
        counts = pipeline.last_trace.last_normalize_info.row_counts
        data = {t: n for t, n in counts.items() if not t.startswith("_dlt")}
        steps = {
            s.step: (s.finished_at - s.started_at).total_seconds()
            for s in pipeline.last_trace.steps
        }
        return {"rows": sum(data.values()), "tables": len(data), "steps": steps}

    return once


def _extracted_rows(info: Any) -> dict[str, int]:
    rows: dict[str, int] = {}
    for metrics in info.metrics.values():
        for step in metrics:
            for table, figures in step["table_metrics"].items():
                if not table.startswith("_dlt"):
                    rows[table] = rows.get(table, 0) + figures.items_count
    return rows


def _misbridge_runner(source: Mapping[str, Any], *, store: bool) -> Callable[[], dict[str, Any]]:
    import asyncio
    import logging

    from misbridge.logs import configure_logging
    from misbridge.pipeline import extract_async
    from misbridge.plugins import get_plugin_manager

    configure_logging(level=logging.WARNING)
    pm = get_plugin_manager()

    def once() -> dict[str, Any]:
        result = asyncio.run(
            extract_async(
                "wonde",
                settings=dict(source["settings"]),
                credentials=dict(source["credentials"]),
                pm=pm,
            )
        )
        if not result.ok:
            raise SystemExit(f"misbridge's extract failed: {result.outcomes}")
        figures: dict[str, Any] = {
            "rows": sum(o.records + o.rejected for o in result.outcomes.values()),
            "tables": len(result.outcomes),
        }
        if store:
            from misbridge.store import open_store

            folder = Path(tempfile.mkdtemp(prefix="bench-dlt-store-"))
            with open_store(f"sqlite:///{folder / 'bench.db'}") as opened:
                report = opened.apply(opened.plan(result, today=TODAY))
            figures["written"] = report.writes
        # Freed here, not in the next run's timing.
        del result
        return figures

    return once


def run_variant(variant: str, source: Mapping[str, Any], repeat: int) -> dict[str, Any]:
    """Warm up once, then time ``repeat`` runs of one variant (in this process)."""
    import gc

    runners: dict[str, Callable[[], Callable[[], dict[str, Any]]]] = {
        "misbridge": lambda: _misbridge_runner(source, store=False),
        "misbridge+sqlite": lambda: _misbridge_runner(source, store=True),
        "dlt extract": lambda: _dlt_runner(source, extract_only=True, nesting=None),
        "dlt run": lambda: _dlt_runner(source, extract_only=False, nesting=None),
        "dlt run nesting=0": lambda: _dlt_runner(source, extract_only=False, nesting=0),
    }
    once = runners[variant]()
    once()  # the warm-up
    runs = []
    for _ in range(repeat):
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        figures = once()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append({"wall_s": wall, "cpu_s": cpu, **figures})
    return {"variant": variant, "runs": runs}


# -- the parent: start the simulator, run every variant in a fresh process -------------
def _child_env() -> dict[str, str]:
    return {
        **os.environ,
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # no report of the run to dlt's servers
        "RUNTIME__LOG_LEVEL": "WARNING",
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    here = str(Path(__file__).resolve())
    report: dict[str, Any] = {
        "students": args.students,
        "staff": args.staff,
        "latency_ms": args.latency_ms,
        "repeat": args.repeat,
        "load_before": os.getloadavg(),
        "variants": {},
    }
    with served_elsewhere(
        "wonde",
        students=args.students,
        staff=args.staff,
        latency=args.latency_ms / 1000,
        seed=args.seed,
    ) as server:
        source = {"settings": server.settings, "credentials": server.credentials}
        for variant in args.variants:
            start = server.requests
            done = subprocess.run(
                [sys.executable, here, "--variant", variant, f"--repeat={args.repeat}"],
                input=json.dumps(source),
                capture_output=True,
                text=True,
                env=_child_env(),
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"{variant} failed:\n{done.stderr[-4000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["requests_per_run"] = (server.requests - start) / (args.repeat + 1)
            report["variants"][variant] = figures
    report["load_after"] = os.getloadavg()
    return report


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def print_report(report: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.2f}" for x in report["load_before"])
    print(
        f"Wonde simulator: {report['students']} students, {report['staff']} staff, "
        f"{report['latency_ms']} ms a request; median of {report['repeat']} runs after a "
        f"warm-up; load average {load}"
    )
    print(f"{'variant':<20}{'wall s':>8}{'CPU s':>8}{'requests':>10}{'rows':>9}{'tables':>8}")
    ours = report["variants"].get("misbridge")
    for name, figures in report["variants"].items():
        runs = figures["runs"]
        print(
            f"{name:<20}{_median(runs, 'wall_s'):8.2f}{_median(runs, 'cpu_s'):8.2f}"
            f"{figures['requests_per_run']:10.0f}{runs[-1]['rows']:9d}{runs[-1]['tables']:8d}"
        )
        steps = runs[-1].get("steps")
        if steps:
            print(
                "    steps (last run, wall s): "
                + ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
            )
    if ours:
        base_wall, base_cpu = _median(ours["runs"], "wall_s"), _median(ours["runs"], "cpu_s")
        print("\nagainst misbridge (extract + normalise + validate):")
        for name, figures in report["variants"].items():
            if name == "misbridge":
                continue
            runs = figures["runs"]
            print(
                f"  {name:<20} wall {_median(runs, 'wall_s') / base_wall:5.2f}x"
                f"  CPU {_median(runs, 'cpu_s') / base_cpu:5.2f}x"
            )
    print("load average after: " + ", ".join(f"{x:.2f}" for x in report["load_after"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", dest="variants", action="append", choices=VARIANTS)
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        source = json.loads(sys.stdin.read())
        print(json.dumps(run_variant(args.variant, source, args.repeat)))
        return
    args.variants = args.variants or list(VARIANTS)
    report = measure(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
