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
4. The same report set written in windows-1252 (transcoded to UTF-8 as it streams)
   against UTF-8 (checked, passed through).
5. Hostile reports of ``--hostile-mb`` (300 MB by default, the sizes issue 18 measured):
   distinct column tags, one huge value, one huge tag name, and a file over the 512 MiB
   cap: time, bytes read and resident-set growth until the refusal.
6. End to end through the stand-in as a real subprocess with the shared harness: ours
   (two reports at once, datasets concurrently) against the way SIMS scripts work (one
   report after another), with 40 ms and with 2 s of start-up per CommandReporter run.

    python bench/bench_sims.py [--students 2000] [--staff 150] [--scale 4] [--json]
                               [--hostile-mb 300] [--no-hostile] [--no-end-to-end]
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


def render_set(folder: Path, students: int, staff: int, encoding: str = "utf-8") -> dict[str, int]:
    school = sample_school(students=students, staff=staff)
    folder.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    options = {} if encoding == "utf-8" else {"encoding": encoding}
    for report in REPORTS:
        path = folder / f"{report.name()}.xml"
        with path.open("wb") as out:
            write_report(out, report_rows(report, school), **options)
        sizes[report.name()] = path.stat().st_size
    return sizes


MB = 1024 * 1024


def _hostile_parts(case: str, size: int) -> Any:
    if case == "distinct column tags":
        yield b"<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID>"
        written = n = 0
        while written < size:
            part = b"".join(b"<C%d>x</C%d>" % (i, i) for i in range(n, n + 5000))
            n, written = n + 5000, written + len(part)
            yield part
        yield b"</Record></SuperStarReport>"
        return
    opening, closing = {
        "one huge value": (
            b"<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID><Adno>",
            b"</Adno></Record></SuperStarReport>",
        ),
        "one huge tag name": (
            b"<SuperStarReport><Record><Adno",
            b">1</Adno></Record></SuperStarReport>",
        ),
    }[case]
    yield opening
    for _ in range(size // MB):
        yield b"7" * MB if case == "one huge value" else b"o" * MB
    yield closing


def write_hostile(folder: Path, case: str, size: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "misbridge Students.xml"
    with path.open("wb") as out:
        if case == "over the 512 MiB cap":
            out.truncate(600 * MB)  # sparse
        else:
            for part in _hostile_parts(case, size):
                out.write(part)
    return path.stat().st_size


def _own_reads() -> int:
    total = 0
    for task in Path("/proc/self/task").iterdir():
        for line in (task / "io").read_text().splitlines():
            if line.startswith("rchar:"):
                total += int(line.split()[1])
    return total


async def _hostile(folder: str) -> dict[str, Any]:
    from misbridge.errors import SourceFormatError

    try:
        counts = await _parse(folder, ("students",))
    except SourceFormatError as exc:
        return {"refused": exc.message.split(": ", 1)[-1][:70]}
    return {"refused": "", **counts}


async def _parse(folder: str, only: tuple[str, ...] | None = None) -> dict[str, int]:
    from misbridge.hooktypes import ExtractContext
    from misbridge_sims.mapping import map_entity
    from misbridge_sims.session import ReportStats, SimsSession
    from misbridge_sims.settings import ReporterConfig

    session = SimsSession(
        ReporterConfig.from_context(ExtractContext(mis="sims", settings={"from_xml": folder}))
    )
    counts = {"xml_records": 0, "entities": 0, "source_records": 0, "largest_entity_rows": 0}
    for report in REPORTS:
        if only is not None and report.key not in only:
            continue
        stats = ReportStats(report.name())
        mapped = report.dataset is not Dataset.PHOTOS  # photos.py maps those
        async for entity in session.entities(report, stats):
            counts["largest_entity_rows"] = max(counts["largest_entity_rows"], entity.rows)
            for _ in map_entity(report.key, entity, stats.report) if mapped else ():
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


def hostile_child(folder: str) -> None:
    asyncio.run(_parse(str(Path(folder).parent / "warm"), ("students",)))  # warm imports
    gc.collect()
    rss_before = psutil.Process().memory_info().rss
    read_before = _own_reads()
    with _RssSampler() as rss:
        wall, cpu = time.perf_counter(), time.process_time()
        figures = asyncio.run(_hostile(folder))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures |= {
        "wall_s": wall,
        "cpu_s": cpu,
        "read_mb": (_own_reads() - read_before) / 1e6,
        "rss_growth_mb": max(rss.peak - rss_before, 0) / 1e6,
    }
    print(json.dumps(figures))


def hostile(size_mb: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sims-hostile-") as tmp:
        render_set(Path(tmp) / "warm", 20, 3)
        for case in (
            "distinct column tags",
            "one huge value",
            "one huge tag name",
            "over the 512 MiB cap",
        ):
            folder = Path(tmp) / case.replace(" ", "-")
            size = write_hostile(folder, case, size_mb * MB)
            got = measure("hostile", folder)
            rows.append(
                {
                    "case": case,
                    "file_mb": round(size / 1e6),
                    "refused": got["refused"] or "(read to the end)",
                    "wall_s": round(got["wall_s"], 3),
                    "read_mb": round(got["read_mb"], 2),
                    "rss_growth_mb": round(got["rss_growth_mb"], 1),
                }
            )
            for leftover in folder.iterdir():
                leftover.unlink()
    return rows


def child(mode: str, folder: str) -> None:
    """One measurement in a fresh process, printed as JSON."""
    if mode == "hostile":
        hostile_child(folder)
        return
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
    parser.add_argument("--hostile-mb", type=int, default=300)
    parser.add_argument("--no-hostile", action="store_true")
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
        folder = Path(tmp) / "cp1252"
        render_set(folder, args.students, args.staff, encoding="cp1252")
        legacy = measure("parse", folder)
        rows[0]["parse_cp1252_s"] = round(legacy["wall_s"], 2)
        rows[0]["parse_cp1252_vs_utf8"] = round(legacy["wall_s"] / rows[0]["parse_s"], 2)
    report: dict[str, Any] = {"parse": rows}
    if not args.no_hostile:
        report["hostile"] = hostile(args.hostile_mb)
    if not args.no_end_to_end:
        report["end_to_end"] = [
            end_to_end(args.students, args.staff, latency) for latency in (0.04, 2.0)
        ]
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "end_to_end"}, indent=2))
        return
    print("SIMS report set: parse through the plugin's real code (from_xml)")
    for key in rows[0]:
        print(f"  {key:>30}: " + "  ".join(f"{row.get(key, ''):>12}" for row in rows))
    one, big = rows[0], rows[-1]
    ratio = big["traced_peak_mb"] / one["traced_peak_mb"]
    print(
        f"  memory {big['scale']}x vs 1x: traced peak {ratio:.2f}x for "
        f"{big['report_mb'] / one['report_mb']:.1f}x the bytes; the largest entity (a year "
        f"group or house with its members) grew {big['largest_entity_rows']} / "
        f"{one['largest_entity_rows']} rows"
    )
    if report.get("hostile"):
        print()
        print("Hostile reports (from_xml, the plugin's real reading code; fresh process each)")
        for row in report["hostile"]:
            print(
                f"  {row['case']:>22}: {row['file_mb']:>5} MB file, refused after "
                f"{row['wall_s']:.3f} s, {row['read_mb']:.2f} MB read, "
                f"+{row['rss_growth_mb']:.1f} MB resident: {row['refused']}"
            )
    for e2e in report.get("end_to_end", []):
        from harness import print_report

        print()
        print_report(e2e)


if __name__ == "__main__":
    main()
