"""The agent's parts on their own: backoff, the journal's at-most-once rule, what of a
run's errors leaves the school, the Integrator's command, and its settings file."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.agent import integrator
from misbridge.agent.config import AgentConfig
from misbridge.agent.hubclient import AgentHub
from misbridge.agent.journal import Journal
from misbridge.agent.runloop import Backoff
from misbridge.agent.worker import Worker, _error_rows, _failure_line
from misbridge.errors import ConfigurationError

CONFIG = AgentConfig(
    hub_url="http://127.0.0.1:9",
    agent_id="agt_x",
    school_id="sch_" + "1" * 24,
    school_name="Oak",
    mis="sims",
)


@given(
    failures=st.integers(min_value=0, max_value=40),
    base=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=1, max_value=600),
    seed=st.integers(),
)
def test_backoff_waits_a_random_time_under_a_growing_capped_ceiling(
    failures: int, base: float, cap: float, seed: int
) -> None:
    backoff = Backoff(base, cap, random.Random(seed))
    waits = [backoff.next() for _ in range(failures + 1)]
    for n, wait in enumerate(waits):
        assert 0 <= wait <= min(cap, base * 2**n)
    backoff.reset()
    assert backoff.next() <= base


def test_jitter_spreads_reconnections() -> None:
    waits = [Backoff(1.0, 300.0, random.Random(s)).next() for s in range(200)]
    assert len({round(w, 3) for w in waits}) > 150


def test_a_request_in_the_journal_is_never_processed_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "agent")
    journal.put("req_" + "a" * 24, state="failed")
    # The hub here is unreachable: any call to it would raise, so "skipped" proves that
    # the agent did not even try to claim the request a second time.
    hub = AgentHub("http://127.0.0.1:9")
    try:
        outcome = Worker(CONFIG, hub, journal).handle(
            {"request_id": "req_" + "a" * 24, "datasets": ["students"]}
        )
    finally:
        hub.close()
    assert outcome == "skipped"


def test_only_ids_codes_and_fields_of_the_errors_leave_the_school(tmp_path: Path) -> None:
    row = {
        "dataset": "students",
        "mis": "sims",
        "mis_id": "1234",
        "record_label": "admission number 001234",
        "field": "upn",
        "code": "upn-check-letter",
        "severity": "error",
        "stage": "on-site",
        "message": "Admission number 001234: the UPN's check letter is wrong",
    }
    (tmp_path / "errors.jsonl").write_text(json.dumps(row) + "\n")
    (sent,) = _error_rows(tmp_path)
    assert set(sent) == {"dataset", "mis_id", "record_label", "field", "code", "severity", "stage"}
    assert "message" not in sent


def test_the_integrator_runs_the_extract_command_and_its_error_is_kept_short_and_clean(
    tmp_path: Path,
) -> None:
    log = tmp_path / "integrator.log"
    process = integrator.IntegratorProcess(
        integrator.start_integrator(
            "sims",
            {"from_xml": str(tmp_path / "missing")},
            None,
            ["students", "photos"],
            tmp_path / "out",
            log,
        )
    )
    process.process.wait(120)
    code = process.stop()
    assert code not in integrator.EXTRACTED
    assert log.stat().st_mode & 0o077 == 0
    line = _failure_line(log)
    assert line and len(line) <= 300
    assert not integrator.started_reading(tmp_path / "out")


def test_a_leftover_integrator_is_only_stopped_if_it_is_this_requests(tmp_path: Path) -> None:
    # Our own process names no extract folder: it must not be signalled.
    import os

    assert integrator.stop_leftover(os.getpid(), tmp_path / "extract") is False


def test_an_agent_that_was_never_activated_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="misbridge agent activate"):
        AgentConfig.load(tmp_path)
    CONFIG.save(tmp_path)
    assert AgentConfig.load(tmp_path) == CONFIG
    assert (tmp_path / "agent" / "agent.json").stat().st_mode & 0o077 == 0
