"""Spreadsheet benchmark: read throughput of the same school as CSV, XLSX and a
password-protected workbook, as ratios in one run.

1. Writes the sample school (with its autumn marksheet) in the ``misbridge`` layout three
   ways: a folder of UTF-8 CSV files, a folder of workbooks (one per export), and one
   password-protected workbook with a sheet per export.
2. Extracts every dataset through the plugin's real code and the whole pipeline
   (normalise + validate, ``collect=False``), once to warm up, then ``--repeat`` times, and
   reports the best wall time, records/s, and each format's time over CSV's.
3. The encrypted workbook's run includes its key derivation (ECMA-376 agile encryption:
   100,000 SHA-512 rounds) and decrypting it in memory; the figure is printed apart.

    python bench/bench_spreadsheet.py [--students 2000] [--staff 150] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import structlog

from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.testing.school import sample_school
from misbridge_spreadsheet.simulator import SpreadsheetSimulator

ALL = [Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.ASSESSMENTS]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


async def _extract(sim: SpreadsheetSimulator) -> int:
    source = sim.source()
    result = await extract_async(
        "spreadsheet",
        settings=dict(source.settings),
        credentials=dict(source.credentials),
        datasets=ALL,
        collect=False,
    )
    bad = {
        d.value: o.status.value for d, o in result.outcomes.items() if o.status.value != "complete"
    }
    if bad:
        raise SystemExit(f"a dataset was not complete: {bad}")
    return sum(o.records + o.rejected for o in result.outcomes.values())


def run(students: int, staff: int, repeat: int) -> dict[str, Any]:
    school = sample_school(students=students, staff=staff, assessments=True)
    formats = {
        "csv": {"format": "csv"},
        "xlsx": {"format": "xlsx", "password": None},
        "workbook+password": {"format": "workbook"},
    }
    figures: dict[str, Any] = {}
    for name, options in formats.items():
        with SpreadsheetSimulator(school, **options) as sim:
            records = asyncio.run(_extract(sim))  # warm-up
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                asyncio.run(_extract(sim))
                times.append(time.perf_counter() - started)
            figures[name] = {
                "bytes": _size(sim.path),
                "records": records,
                "best_s": round(min(times), 3),
                "records_per_s": round(records / min(times)),
            }
    base = figures["csv"]["best_s"]
    for name in figures:
        figures[name]["vs_csv"] = round(figures[name]["best_s"] / base, 2)
    return {"students": students, "staff": staff, "formats": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    report = run(args.students, args.staff, args.repeat)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['students']} students, {report['staff']} staff, every dataset + marksheet")
    print(f"{'format':<20}{'MB':>8}{'records':>10}{'best s':>9}{'records/s':>12}{'x CSV':>8}")
    for name, f in report["formats"].items():
        mb = f["bytes"] / 1e6
        print(
            f"{name:<20}{mb:>8.1f}{f['records']:>10,}{f['best_s']:>9.2f}"
            f"{f['records_per_s']:>12,}{f['vs_csv']:>8.2f}"
        )


if __name__ == "__main__":
    main()
