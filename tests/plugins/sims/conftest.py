"""Shared fixtures: a small school, stand-in simulators that are always closed, and a
helper that runs the real pipeline against them (real subprocesses every time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from misbridge.model import Dataset
from misbridge.pipeline import extract_async
from misbridge.result import ExtractResult
from misbridge.source import SourceSchool
from misbridge.testing.school import sample_school
from misbridge_sims.simulator import SimsSimulator, simulator

ALL = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.EXAM_RESULTS)


@pytest.fixture(scope="session")
def school() -> SourceSchool:
    # 40 pupils: above the 20 records from which withheld columns are inferred.
    return sample_school(seed=3, students=40, staff=5)


@pytest.fixture
def make_sim(school: SourceSchool) -> Iterator[Callable[..., SimsSimulator]]:
    made: list[SimsSimulator] = []

    def make(target: SourceSchool | None = None, **options: Any) -> SimsSimulator:
        sim = simulator(target or school, **options)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


async def run(
    sim: SimsSimulator,
    *,
    datasets: tuple[Dataset, ...] = ALL,
    credentials: dict[str, str] | None = None,
    **settings: str,
) -> ExtractResult:
    source = sim.source()
    return await extract_async(
        "sims",
        settings={**source.settings, **settings},
        credentials=dict(source.credentials) if credentials is None else credentials,
        datasets=datasets,
    )


def own_read_bytes() -> int:
    """Bytes this process has read itself (Linux, per thread): ``/proc/self/io`` also
    counts the reporter processes it has reaped, and everything they read."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        for line in (task / "io").read_text().splitlines():
            if line.startswith("rchar:"):
                total += int(line.split()[1])
    return total
