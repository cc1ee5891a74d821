"""SIMS benchmark: parse throughput and memory of CommandReporter reports, 1x vs 4x.

1. Renders the sample school's report set (every report the plugin runs) exactly as the
   CommandReporter stand-in writes it, for a 2,000-student school (1x) and a 4x school.
2. In a fresh process per measurement, reads each set through the plugin's real code
   (``from_xml``: bytes -> defusedxml target parser -> cross-product merge -> source
   records) and reports XML records/s, MB/s, CPU, and peak memory: traced Python heap
   (tracemalloc, its own run) and the growth of the resident set. Memory must not grow
   with the report's size beyond one record set's entities (the merger keeps the IDs it
   has finished, a few bytes each).
3. The same through the whole pipeline (normalise + validate, ``collect=False``).
4. End to end through the stand-in as a real subprocess with the shared harness: ours
   (two reports at once, datasets concurrently) against the way SIMS scripts work (one
   report after another), with 40 ms and with 2 s of start-up per CommandReporter run.

    python bench/bench_sims.py [--students 2000] [--staff 150] [--scale 4] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

from misbridge.model import Dataset
from misbridge.sample import sample_school
from misbridge_sims.render import report_rows, write_report
from misbridge_sims.reports import REPORTS

ALL = [Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.EXAM_RESULTS]


def render_set(folder: Path, students: int, staff: int) -> dict[str, int]:
    school = sample_school(students=students, staff=staff)
    folder.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    for report in REPORTS:
        path = folder / f"{report.name()}.xml"
        with path.open("wb") as out:
            write_report(out, report_rows(report, school))
        sizes[report.name()] = path.stat().st_size
    return sizes


async def _parse(folder: str, only: tuple[str, ...] | None = None) -> dict[str, int]:
    from misbridge.hooktypes import ExtractContext
    from misbridge_sims.config import ReporterConfig
    from misbridge_sims.mapping import map_entity
    from misbridge_sims.session import ReportStats, SimsSession

    session = SimsSession(
        ReporterConfig.from_context(ExtractContext(mis="sims", settings={"from_xml": folder}))
    )
    counts = {"xml_records": 0, "entities": 0, "source_records": 0, "largest_entity_rows": 0}
    for report in REPORTS:
        if only is not None and report.key not in only:
            continue
        stats = ReportStats(report.name())
        async for entity in session.entities(report, stats):
            counts["largest_entity_rows"] = max(counts["largest_entity_rows"], entity.rows)
            for _ in map_entity(report.key, entity, stats.report):
                counts["source_records"] += 1
        counts["xml_records"] += stats.records
        counts["entities"] += stats.entities
    await session.aclose()
    return counts


async def _pipeline(folder: str) -> dict[str, int]:
    from misbridge.pipeline import extract_async

    result = await extract_async(
        "sims", settings={"from_xml": folder}, credentials={}, datasets=ALL, collect=False
    )
    assert result.ok, result.summary()
    return {"source_records": sum(o.records + o.rejected for o in result.outcomes.values())}


class _RssSampler:
    """The highest resident set size seen while a measurement runs (every 2 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, me.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child(mode: str, folder: str) -> None:
    """One measurement in a fresh process, printed as JSON."""
    run = _pipeline if mode == "pipeline" else _parse
    only = ("students",) if mode == "traced-students" else None
    traced = mode.startswith("traced")
    args = (folder, only) if run is _parse else (folder,)
    asyncio.run(run(*args))  # warm imports and caches outside the measurement
    gc.collect()
    rss_before = psutil.Process().memory_info().rss
    if traced:
        tracemalloc.start()
    with _RssSampler() as rss:
        wall, cpu = time.perf_counter(), time.process_time()
        counts = asyncio.run(run(*args))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures: dict[str, Any] = {"wall_s": wall, "cpu_s": cpu, **counts}
    if traced:
        figures["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    figures["rss_growth_mb"] = max(rss.peak - rss_before, 0) / 1e6
    print(json.dumps(figures))


def measure(mode: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def end_to_end(students: int, staff: int, latency: float) -> Any:
    sys.path.insert(0, str(Path(__file__).parent))
    from harness import BenchCase, run_case

    case = BenchCase(
        mis="sims",
        students=students,
        staff=staff,
        # Per CommandReporter run: the stand-in sleeps this long before answering
        # (CommandReporter loads SIMS and logs in for every report).
        latency=latency,
        # The login run, then any one report: nothing else waits on another report.
        critical_path=lambda school: 2,
        settings={},
        baseline_settings={"concurrency": "1"},
    )
    return run_case(case)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-end-to-end", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sims-") as tmp:
        for scale in (1, args.scale):
            folder = Path(tmp) / f"x{scale}"
            sizes = render_set(folder, args.students * scale, args.staff * scale)
            timed = measure("parse", folder)
            traced = measure("traced", folder)
            students_only = measure("traced-students", folder)
            piped = measure("pipeline", folder)
            mb = sum(sizes.values()) / 1e6
            rows.append(
                {
                    "scale": scale,
                    "students": args.students * scale,
                    "report_mb": round(mb, 1),
                    "xml_records": timed["xml_records"],
                    "entities": timed["entities"],
                    "largest_entity_rows": timed["largest_entity_rows"],
                    "source_records": timed["source_records"],
                    "parse_s": round(timed["wall_s"], 2),
                    "parse_cpu_s": round(timed["cpu_s"], 2),
                    "xml_records_per_s": round(timed["xml_records"] / timed["wall_s"]),
                    "parse_mb_per_s": round(mb / timed["wall_s"], 1),
                    "traced_peak_mb": round(traced["traced_peak_mb"], 2),
                    "students_report_traced_peak_mb": round(students_only["traced_peak_mb"], 2),
                    "parse_rss_growth_mb": round(timed["rss_growth_mb"], 1),
                    "pipeline_s": round(piped["wall_s"], 2),
                    "pipeline_records_per_s": round(piped["source_records"] / piped["wall_s"]),
                    "pipeline_rss_growth_mb": round(piped["rss_growth_mb"], 1),
                }
            )
    report: dict[str, Any] = {"parse": rows}
    if not args.no_end_to_end:
        report["end_to_end"] = [
            end_to_end(args.students, args.staff, latency) for latency in (0.04, 2.0)
        ]
    if args.json:
        print(json.dumps(report["parse"], indent=2))
        return
    print("SIMS report set: parse through the plugin's real code (from_xml)")
    for key in rows[0]:
        print(f"  {key:>30}: " + "  ".join(f"{row[key]:>12}" for row in rows))
    one, big = rows[0], rows[-1]
    ratio = big["traced_peak_mb"] / one["traced_peak_mb"]
    print(
        f"  memory {big['scale']}x vs 1x: traced peak {ratio:.2f}x for "
        f"{big['report_mb'] / one['report_mb']:.1f}x the bytes; the largest entity (a year "
        f"group or house with its members) grew {big['largest_entity_rows']} / "
        f"{one['largest_entity_rows']} rows"
    )
    for e2e in report.get("end_to_end", []):
        from harness import print_report

        print()
        print_report(e2e)


if __name__ == "__main__":
    main()
