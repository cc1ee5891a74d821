"""Store benchmark: first apply, unchanged re-apply and an ordinary night, by school size.

    python bench/bench_store.py [--sizes 500,2000,8000] [--repeat 5] [--first-repeat 3]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json]

For each size and database (SQLite in a temporary folder; PostgreSQL in a fresh schema,
dropped afterwards; ``--postgres ''`` skips it) it reports:

- *first apply*: plan and apply of the whole school into an empty store, ``--first-repeat``
  times, each into a new store (best and median);
- *unchanged re-apply*: the same extract again (goal: zero writes), best and median of
  ``--repeat`` runs;
- *ordinary night*: 1% of students changed, 0.5% left, 0.5% joined (one run).

Wall and CPU seconds are both shown: on a shared machine the CPU time of this process
is the steadier figure. Each size's extract is built once through the real normaliser.
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


def _first_apply(store: Store, result: ExtractResult) -> tuple[float, float, float, float, int]:
    plan, wall, cpu = timed(lambda: store.plan(result, today=TODAY))
    report, awall, acpu = timed(lambda: store.apply(plan))
    return wall + awall, cpu + acpu, wall, awall, report.writes


def measure(
    opened: Callable[[], Any], result: ExtractResult, repeat: int, first_repeat: int
) -> dict[str, Any]:
    """``opened()`` gives a context manager yielding a new, empty store."""
    figures: dict[str, Any] = {}
    firsts = []
    for attempt in range(first_repeat):
        with opened() as store:
            firsts.append(_first_apply(store, result))
            if attempt == first_repeat - 1:
                figures.update(_again(store, result, repeat))
    totals = [r[0] for r in firsts]
    figures["first_apply"] = {
        "best_s": round(min(totals), 3),
        "median_s": round(statistics.median(totals), 3),
        "best_cpu_s": round(min(r[1] for r in firsts), 3),
        "median_cpu_s": round(statistics.median(r[1] for r in firsts), 3),
        "plan_s_best": round(min(r[2] for r in firsts), 3),
        "apply_s_best": round(min(r[3] for r in firsts), 3),
        "rows_written": firsts[0][4],
        "runs": len(firsts),
    }
    return figures


def _again(store: Store, result: ExtractResult, repeat: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
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
        "median_cpu_s": round(statistics.median(r[1] for r in runs), 3),
        "plan_s_best": round(min(r[2] for r in runs), 3),
        "apply_s_best": round(min(r[3] for r in runs), 3),
        "rows_written": max(r[4] for r in runs),
        "plan_empty": all(r[5] for r in runs),
        "runs": len(runs),
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


@contextmanager
def _store_at(urls: Callable[[], Any]) -> Iterator[Store]:
    with urls() as url, open_store(url) as store:
        yield store


def run_size(args: argparse.Namespace, students: int) -> dict[str, Any]:
    result, wall, _ = timed(lambda: normalised(students, args.staff))
    size = {d.value: len(r) for d, r in result.records.items()}
    out: dict[str, Any] = {
        "students": students,
        "records": size,
        "extract_build_s": round(wall, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_url)]
    if args.postgres:
        backends.append(("postgresql", lambda: postgres_url(args.postgres)))
    for name, urls in backends:
        try:
            out[name] = measure(
                lambda u=urls: _store_at(u),  # type: ignore[misc]
                result,
                args.repeat,
                args.first_repeat,
            )
        except Exception as exc:  # an unreachable server is reported, not fatal
            out[name] = {"skipped": f"{type(exc).__name__}: {exc}"}
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def show(out: dict[str, Any]) -> None:
    print(
        f"Sample school: {out['students']} students; records {out['records']} "
        f"(load average {out['load_average']} before, {out['load_average_after']} after, "
        f"on {out['cpus']} CPUs)"
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
            f"  first apply         {first['best_s']:7.3f} s best, {first['median_s']:.3f} s "
            f"median of {first['runs']} (cpu {first['best_cpu_s']:.3f} best, "
            f"{first['median_cpu_s']:.3f} median; plan {first['plan_s_best']:.3f} + apply "
            f"{first['apply_s_best']:.3f}), {first['rows_written']} rows written"
        )
        print(
            f"  unchanged re-apply  {again['best_s']:7.3f} s best, {again['median_s']:.3f} s "
            f"median of {again['runs']} (cpu {again['best_cpu_s']:.3f} best, "
            f"{again['median_cpu_s']:.3f} median; plan {again['plan_s_best']:.3f} + apply "
            f"{again['apply_s_best']:.3f}), {again['rows_written']} rows written"
        )
        print(
            f"  ordinary night      {night['total_s']:7.3f} s (cpu {night['cpu_s']:.3f}), "
            f"{night['rows_written']} rows written, students {night['students']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="students per school, e.g. 500,2000,8000")
    parser.add_argument("--students", type=int, default=2000, help="one size (without --sizes)")
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=5, help="unchanged re-applies")
    parser.add_argument("--first-repeat", type=int, default=3, help="first applies")
    parser.add_argument("--postgres", default=PG_DEFAULT, help="'' to skip PostgreSQL")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [args.students]
    outs = []
    for students in sizes:
        out = run_size(args, students)
        outs.append(out)
        if not args.json:
            show(out)
            print()
    if args.json:
        print(json.dumps(outs if args.sizes else outs[0], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
