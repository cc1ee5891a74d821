"""A trust on one machine: ``misbridge run`` over several schools at once, bounded per
MIS host and in all, one store for them all, a summary, the worst school's exit code.

The schools are small Wonde schools served by the plugin's own simulator on loopback
ports (real HTTP, the plugin's real client), each with its own token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.jobs import parse_config
from misbridge.jobs.summary import write_summary
from misbridge.jobs.trust import SchoolOutcome, run_trust, run_trust_async
from misbridge.model import Dataset
from misbridge.simulation import serve_loopback
from misbridge.store import open_store
from misbridge.testing.school import sample_school
from misbridge_wonde.simulator import WondeSimulator

TOKEN = "trust-token"


class Host:
    """One Wonde simulator on a loopback port, serving several schools."""

    def __init__(self, seeds: list[int], *, students: int = 12, latency: float = 0.02) -> None:
        self.schools = [sample_school(seed=s, students=students, staff=3) for s in seeds]
        self.sim = WondeSimulator(
            self.schools[0], token=TOKEN, latency=latency, other_schools=self.schools[1:]
        )

    def settings(self, url: str, position: int) -> dict[str, str]:
        return {"school_id": self.schools[position].mis_id, "base_url": url + "/v1.0/"}


@pytest.fixture
def hosts() -> Iterator[tuple[list[Host], list[str]]]:
    first, second = Host([1, 2, 3]), Host([4, 5])
    with serve_loopback(first.sim.app) as one, serve_loopback(second.sim.app) as two:
        yield [first, second], [one, two]


def config(tmp_path: Path, schools: list[dict[str, Any]], **run: Any) -> Any:
    return parse_config(
        {
            "store": f"sqlite:///{tmp_path / 'trust.db'}",
            "out": str(tmp_path / "out"),
            "run": run,
            "school": schools,
        },
        path=tmp_path / "misbridge.toml",
    )


def trust_of(hosts: tuple[list[Host], list[str]]) -> list[dict[str, Any]]:
    (first, second), (one, two) = hosts
    return [
        {"name": "oak", "mis": "wonde", "settings": first.settings(one, 0)},
        {"name": "elm", "mis": "wonde", "settings": first.settings(one, 1)},
        {"name": "ash", "mis": "wonde", "settings": first.settings(one, 2)},
        {"name": "yew", "mis": "wonde", "settings": second.settings(two, 0)},
        {"name": "fir", "mis": "wonde", "settings": second.settings(two, 1)},
    ]


def overlapping(outcomes: list[SchoolOutcome]) -> int:
    """The most schools that ran at one moment."""
    edges = []
    for o in outcomes:
        assert o.started_at is not None
        edges += [(o.started_at, 1), (o.started_at + timedelta(seconds=o.seconds), -1)]
    most = now = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        now += step
        most = max(most, now)
    return most


async def test_a_trust_runs_at_once_within_its_bounds_into_one_store(
    hosts: tuple[list[Host], list[str]], tmp_path: Path
) -> None:
    trust = config(tmp_path, trust_of(hosts), concurrency=3, per_host=1)
    result = await run_trust_async(trust, credentials={"token": TOKEN})
    assert [o.status for o in result.outcomes] == ["complete"] * 5, [
        o.message for o in result.outcomes
    ]
    assert result.exit_code == 0
    by_host: dict[str, list[SchoolOutcome]] = {}
    for outcome in result.outcomes:
        by_host.setdefault(outcome.host, []).append(outcome)
    assert len(by_host) == 2
    for outcomes in by_host.values():
        assert overlapping(outcomes) == 1  # per_host = 1
    assert overlapping(result.outcomes) == 2  # one per host at a time, two hosts
    with open_store(trust.schools[0].store) as store:
        assert store.schools() == sorted(s.name for s in trust.schools)
        for outcome in result.outcomes:
            students = store.status(outcome.school)["records"]["student"]
            assert outcome.result is not None
            read = outcome.result.outcomes[Dataset.STUDENTS].records
            assert students["enabled"] + students["disabled"] == read > 0
    for school in trust.schools:
        assert (school.out / "report.html").is_file()


async def test_one_school_failing_never_stops_the_others(
    hosts: tuple[list[Host], list[str]], tmp_path: Path
) -> None:
    schools = trust_of(hosts)[:3]
    schools.append(  # nothing listens there: the MIS is "down"
        {
            "name": "down",
            "mis": "wonde",
            "settings": {"school_id": "A1", "base_url": "http://127.0.0.1:9/v1.0/"},
        }
    )
    schools.append(
        {"name": "typo", "mis": "wonde", "settings": {"school_id": "A1", "basse_url": "x"}}
    )
    trust = config(tmp_path, schools, concurrency=5, per_host=5)
    result = await run_trust_async(trust, credentials={"token": TOKEN})
    status = {o.school: o.status for o in result.outcomes}
    assert status == {
        "oak": "complete",
        "elm": "complete",
        "ash": "complete",
        "down": "failed",
        "typo": "failed",
    }
    assert result.exit_code == 1
    typo = next(o for o in result.outcomes if o.school == "typo")
    assert typo.message is not None and "basse_url" in typo.message
    files = write_summary(result, tmp_path / "out" / "trust-summary.json")
    summary = json.loads(files[0].read_text())
    assert summary["schools_by_status"]["failed"] == ["down", "typo"]
    assert summary["counts"]["complete"] == 3
    assert TOKEN not in files[0].read_text() and TOKEN not in files[1].read_text()
    assert "down" in files[1].read_text()


def test_a_guard_refusal_is_one_schools_and_sets_the_exit_code(
    hosts: tuple[list[Host], list[str]], tmp_path: Path
) -> None:
    schools = trust_of(hosts)[1:3]
    big, small = Host([1], students=40), Host([1], students=12)
    with serve_loopback(big.sim.app) as url:
        schools.insert(0, {"name": "oak", "mis": "wonde", "settings": big.settings(url, 0)})
        first = run_trust(config(tmp_path, schools), processes=1, credentials={"token": TOKEN})
    assert first.exit_code == 0
    # The next night Oakfield's MIS answers with twelve pupils of forty: most "left".
    with serve_loopback(small.sim.app) as url:
        schools[0]["settings"] = small.settings(url, 0)
        again = run_trust(config(tmp_path, schools), processes=1, credentials={"token": TOKEN})
    status = {o.school: o.status for o in again.outcomes}
    assert status == {"oak": "refused", "elm": "complete", "ash": "complete"}
    assert again.exit_code == 4
    oak = again.outcomes[0]
    assert oak.message is not None and "approve" in oak.message
    assert "--school oak" in oak.message


def test_a_trust_over_two_processes(hosts: tuple[list[Host], list[str]], tmp_path: Path) -> None:
    trust = config(tmp_path, trust_of(hosts), concurrency=4, per_host=2, processes=2)
    seen: list[str] = []
    result = run_trust(trust, on_done=lambda o: seen.append(o.school), credentials={"token": TOKEN})
    assert result.processes == 2
    assert [o.status for o in result.outcomes] == ["complete"] * 5
    assert sorted(seen) == sorted(s.name for s in trust.schools)
    assert all(o.result is not None and o.result.sync is not None for o in result.outcomes)
    with open_store(trust.schools[0].store) as store:
        assert len(store.schools()) == 5


def test_misbridge_run_prints_each_school_and_the_trust(
    hosts: tuple[list[Host], list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (first, _), (one, _) = hosts
    toml = tmp_path / "misbridge.toml"
    toml.write_text(
        f'store = "sqlite:///{tmp_path / "t.db"}"\nout = "{tmp_path / "out"}"\n'
        "[run]\nconcurrency = 2\nprocesses = 1\n"
        + "".join(
            f'[[school]]\nname = "{name}"\nmis = "wonde"\n[school.settings]\n'
            f'school_id = "{first.schools[n].mis_id}"\nbase_url = "{one}/v1.0/"\n'
            for n, name in enumerate(["oak", "elm"])
        )
    )
    monkeypatch.setenv("MISBRIDGE_WONDE_TOKEN", TOKEN)
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(build_cli(), ["run", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    assert "trust=complete schools=2 names=oak,elm" in result.output or (
        "trust=complete schools=2 names=elm,oak" in result.output
    )
    assert "school=oak status=complete" in result.output
    summary = json.loads((tmp_path / "out" / "trust-summary.json").read_text())
    assert summary["counts"]["complete"] == 2 and summary["exit_code"] == 0
