"""``misbridge demo --mis X`` after ``misbridge demo --mis Y`` in one folder, for every
ordered pair of the four MIS: exit 0 every time, no duplicates, no history lost."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.plugins import get_plugin_manager
from misbridge.store import open_store
from tests.core.store.factory import rows

MIS = ("sims", "arbor", "bromcom", "wonde")


def _every_ordered_pair() -> list[str]:
    """A walk through the four MIS that takes every ordered pair once (an Euler circuit
    of the complete directed graph): 13 runs instead of 24."""
    order = ["sims"]
    unused = {(a, b) for a in MIS for b in MIS if a != b}
    while unused:
        here = order[-1]
        step = next(
            b
            for a, b in sorted(unused)
            if a == here and (any(x == b for x, _ in unused - {(here, b)}) or len(unused) == 1)
        )
        unused.discard((here, step))
        order.append(step)
    return order


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def test_every_mis_after_every_other_in_one_folder(tmp_path: Path) -> None:
    walk = _every_ordered_pair()
    assert set(itertools.pairwise(walk)) == {(a, b) for a in MIS for b in MIS if a != b}
    cli = build_cli(get_plugin_manager())
    counts: dict[str, int] | None = None
    memberships: dict[str, object] | None = None
    for mis in walk:
        result = CliRunner().invoke(cli, ["demo", "--mis", mis, "--students", "30", "--staff", "4"])
        assert result.exit_code == 0, f"{mis}: {result.output[-2000:]}"
        with open_store(f"sqlite:///{tmp_path / 'misbridge.db'}") as store:
            now = {
                t: len(rows(store, t)) for t in ("student", "staff", "roster_group", "membership")
            }
            dated = {
                r["id"]: (r["start_date"], r["enabled"])
                for r in rows(store, "membership")
                if r["start_date"] is not None
            }
        if counts is None:
            counts = now
        assert now == counts, f"{mis}: rows were duplicated ({now} after {counts})"
        if memberships is not None:
            # Dates once known are never lost, whatever MIS comes next.
            assert {k: v for k, v in dated.items() if k in memberships} == memberships, mis
        if dated:
            memberships = dated
