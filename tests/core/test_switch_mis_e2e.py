"""Issue 6's end-to-end check: one school, two MIS, a switch in between.

The sample school is extracted through the SIMS plugin (its CommandReporter stand-in runs
as a real process) and applied; the store is told the school switched MIS; the same
school, with every MIS id different as a new MIS would give them, is extracted through
the Arbor plugin's simulator and applied. Nothing may be created, disabled or duplicated,
and every new id must be stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from misbridge.pipeline import extract_async
from misbridge.plugins import get_plugin_manager
from misbridge.result import ExtractResult
from misbridge.source import SourceSchool
from misbridge.store import open_store
from misbridge.testing.school import sample_school, with_new_ids


def extract(mis: str, school: SourceSchool) -> ExtractResult:
    plugins = get_plugin_manager()
    factory = plugins.info(mis).simulator
    assert factory is not None
    simulator = factory(school)
    try:
        source = simulator.source()
        return asyncio.run(
            extract_async(
                mis,
                settings=source.settings,
                credentials=source.credentials,
                transport=source.transport,
                pm=plugins,
            )
        )
    finally:
        simulator.close()


def total(counts: dict[str, dict[str, int]], key: str) -> int:
    return sum(dataset.get(key, 0) for dataset in counts.values())


def test_switching_mis_matches_every_record_by_natural_key(tmp_path: Path) -> None:
    school = sample_school(students=60, staff=8)
    first = extract("sims", school)
    assert first.ok
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        created = store.sync(first)
        assert created.applied and total(created.counts, "created") > 60
        before: dict[str, Any] = store.status()

        store.switch_mis()
        moved = with_new_ids(school, prefix="ARB")
        second = extract("arbor", moved)
        assert second.ok
        report = store.sync(second)
        after: dict[str, Any] = store.status()
    finally:
        store.close()

    assert report.applied, report.breaches
    assert total(report.counts, "created") == 0
    assert total(report.counts, "disabled") == 0
    assert total(report.counts, "memberships_started") == 0
    assert total(report.counts, "memberships_ended") == 0
    assert total(report.counts, "ambiguous") == 0
    assert total(report.counts, "unmatched") == 0
    assert total(report.counts, "linked") > 0
    # No duplicates: the same number of records, all still enabled.
    assert after["records"] == before["records"]
    # Every record now carries its Arbor id, and no SIMS id is left.
    assert after["mis_ids"].get("arbor", 0) == before["mis_ids"]["sims"]
    assert after["mis_ids"].get("sims", 0) == 0
