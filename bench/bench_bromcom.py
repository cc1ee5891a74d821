"""Benchmark the Bromcom plugin against its simulator on loopback (see bench/harness.py).

    python bench/bench_bromcom.py                      # 2,000 students, 150 staff, 40 ms
    python bench/bench_bromcom.py --json
    python bench/bench_bromcom.py --mode soap          # the legacy SOAP service

*Ours*: the plugin's defaults: datasets at once, every entity of a dataset at once
(groups reads Collections, Subjects, CollectionAssociates and CollectionExecutives
together), up to eight requests in flight. The *baseline* is the way Bromcom's known
clients work (bromcom-essentials-dotnet): one request at a time,
one entity after another, one dataset after another.

Critical path: Bromcom answers up to 100,000 rows a page and sends no count, so every
entity of a school is one page (page n+1 is only known to exist once page n came back
full): the credential probe, then one page per entity, which can all go at once. In the
legacy mode the pupils' details are looked up 20 pupils at a time after the pupil list,
so the requests the pool must queue are part of the path (as in bench_wonde.py).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attrs import evolve
from harness import BenchCase, main

from misbridge.http import HttpPolicy
from misbridge.source import SourceSchool

PAGE_SIZE = 100_000
BATCH = 20  # the legacy service's filter-term limit
CONCURRENCY = HttpPolicy().concurrency


def critical_path(school: SourceSchool) -> int:
    """Partner mode: the credential probe, then the longest chain of pages of any one
    entity (every entity of the school fits one page, and they can all go at once)."""
    largest = max(len(school.students), len(school.staff), len(school.memberships))
    return 1 + largest // PAGE_SIZE + 1


def soap_critical_path(school: SourceSchool) -> int:
    """Legacy mode: the login check, the pupil list, then the person-detail lookups (four
    entities per batch of 20 pupils), which go at most ``CONCURRENCY`` at a time."""
    details = 4 * math.ceil(len(school.students) / BATCH)
    return 2 + math.ceil(details / CONCURRENCY)


CASE = BenchCase(
    mis="bromcom",
    students=2000,
    staff=150,
    latency=0.040,
    critical_path=critical_path,
    baseline_settings={"http_concurrency": "1"},
)


if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--mode" in argv:
        at = argv.index("--mode")
        mode = argv[at + 1]
        del argv[at : at + 2]
        if mode == "soap":
            CASE = evolve(CASE, settings={"mode": "soap"}, critical_path=soap_critical_path)
    main(CASE, argv)
