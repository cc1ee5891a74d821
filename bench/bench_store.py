"""Store benchmark: first apply of the sample school and an unchanged re-apply.

    python bench/bench_store.py [--students 2000] [--repeat 5] [--json]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each database (SQLite in a temporary folder; PostgreSQL in a fresh schema, dropped
afterwards) it reports:

- *first apply*: plan and apply of the whole school into an empty store;
- *unchanged re-apply*: the same extract again (goal: zero writes, under 0.5 s on
  SQLite for plan + apply), best and median of ``--repeat`` runs;
- *ordinary night*: 1% of students changed, 0.5% left, 0.5% joined.

Wall and CPU seconds are both shown: on a shared machine the CPU time of this process
is the steadier figure. The extract is built once through the real normaliser.
Figures are for people to read; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from attrs import evolve

from misbridge.errors import Severity
from misbridge.model import Dataset, Student
from misbridge.normalise import Normaliser
from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus
from misbridge.sample import sample_school
from misbridge.store import Store, open_store

TODAY = date(2026, 10, 1)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def normalised(students: int, staff: int) -> ExtractResult:
    school = sample_school(students=students, staff=staff)
    normaliser = Normaliser(mis="wonde")
    result = ExtractResult(mis="wonde", started=datetime.now(UTC))
    for dataset in Dataset:
        kept = []
        for source in school.records(dataset):
            model, errors = normaliser.normalise(dataset, source)
            result.errors.extend(errors)
            if model is not None and not any(e.severity is Severity.ERROR for e in errors):
                kept.append(model)
        result.records[dataset] = kept
        result.outcomes[dataset] = DatasetOutcome(dataset, OutcomeStatus.COMPLETE, len(kept))
    return result


def ordinary_night(result: ExtractResult) -> ExtractResult:
    """1% of students changed, 0.5% left (leaving date passed), 0.5% new joiners."""
    students: list[Student] = list(result.records[Dataset.STUDENTS])  # type: ignore[arg-type]
    step = max(len(students) // 20, 1)
    night = ExtractResult(mis=result.mis, started=result.started, outcomes=dict(result.outcomes))
    night.records = {d: list(r) for d, r in result.records.items()}
    changed = []
    for index, s in enumerate(students):
        if index % 100 == 1:
            s = evolve(s, mobile_telephone="07700 900123", fsm=not s.fsm)
        elif index % 200 == 2:
            s = evolve(s, leaving_date=TODAY - timedelta(days=1))
        changed.append(s)
    joiners = [
        evolve(s, mis_id=f"new-{s.mis_id}", upn=None, username=f"new-{s.username}")
        for s in students[::step][: max(len(students) // 200, 1)]
    ]
    night.records[Dataset.STUDENTS] = changed + joiners
    return night


def timed(func: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    return value, time.perf_counter() - wall, time.process_time() - cpu


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="mbbench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgres_url(base: str) -> Iterator[str]:
    import psycopg

    dsn = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"mbbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def measure(store: Store, result: ExtractResult, repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    plan, wall, cpu = timed(lambda: store.plan(result, today=TODAY))
    report, awall, acpu = timed(lambda: store.apply(plan))
    figures["first_apply"] = {
        "plan_s": round(wall, 3),
        "apply_s": round(awall, 3),
        "total_s": round(wall + awall, 3),
        "cpu_s": round(cpu + acpu, 3),
        "rows_written": report.writes,
    }
    runs = []
    for _ in range(repeat):
        plan, wall, cpu = timed(lambda: store.plan(result, today=TODAY))
        report, awall, acpu = timed(lambda p=plan: store.apply(p))  # type: ignore[misc]
        runs.append((wall + awall, cpu + acpu, wall, awall, report.writes, plan.empty))
    totals = [r[0] for r in runs]
    figures["unchanged_reapply"] = {
        "best_s": round(min(totals), 3),
        "median_s": round(statistics.median(totals), 3),
        "best_cpu_s": round(min(r[1] for r in runs), 3),
        "plan_s_best": round(min(r[2] for r in runs), 3),
        "apply_s_best": round(min(r[3] for r in runs), 3),
        "rows_written": max(r[4] for r in runs),
        "plan_empty": all(r[5] for r in runs),
    }
    night = ordinary_night(result)
    report, wall, cpu = timed(lambda: store.sync(night, today=TODAY))
    figures["ordinary_night"] = {
        "total_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "rows_written": report.writes,
        "students": {k: report.counts["students"][k] for k in ("created", "updated", "disabled")},
    }
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    result, wall, _ = timed(lambda: normalised(args.students, args.staff))
    size = {d.value: len(r) for d, r in result.records.items()}
    out: dict[str, Any] = {
        "students": args.students,
        "records": size,
        "extract_build_s": round(wall, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    backends: list[tuple[str, Any]] = [("sqlite", sqlite_url())]
    if args.postgres:
        backends.append(("postgresql", postgres_url(args.postgres)))
    for name, context in backends:
        try:
            with context as url, open_store(url) as store:
                out[name] = measure(store, result, args.repeat)
        except Exception as exc:  # an unreachable server is reported, not fatal
            out[name] = {"skipped": f"{type(exc).__name__}: {exc}"}
    return out


def show(out: dict[str, Any]) -> None:
    print(
        f"Sample school: {out['students']} students; records {out['records']} "
        f"(load average {out['load_average']} on {out['cpus']} CPUs)"
    )
    for name in ("sqlite", "postgresql"):
        figures = out.get(name)
        if figures is None:
            continue
        if "skipped" in figures:
            print(f"\n{name}: skipped ({figures['skipped']})")
            continue
        first, again, night = (
            figures["first_apply"],
            figures["unchanged_reapply"],
            figures["ordinary_night"],
        )
        print(f"\n{name}")
        print(
            f"  first apply         {first['total_s']:7.3f} s (plan {first['plan_s']:.3f} + "
            f"apply {first['apply_s']:.3f}; cpu {first['cpu_s']:.3f}), "
            f"{first['rows_written']} rows written"
        )
        goal = "met" if again["rows_written"] == 0 and again["best_s"] < 0.5 else "not met"
        print(
            f"  unchanged re-apply  {again['best_s']:7.3f} s best, {again['median_s']:.3f} s "
            f"median (cpu {again['best_cpu_s']:.3f}; plan {again['plan_s_best']:.3f} + apply "
            f"{again['apply_s_best']:.3f}), {again['rows_written']} rows written"
            + (f"  [goal: 0 writes, < 0.5 s: {goal}]" if name == "sqlite" else "")
        )
        print(
            f"  ordinary night      {night['total_s']:7.3f} s (cpu {night['cpu_s']:.3f}), "
            f"{night['rows_written']} rows written, students {night['students']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="'' to skip PostgreSQL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        show(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
