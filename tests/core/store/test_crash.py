"""Atomicity: an apply killed at any point leaves the state before it or after it."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from misbridge.store import Store
from tests.core.store.crash_child import change, prepare
from tests.core.store.factory import TODAY, snapshot

ROOT = Path(__file__).resolve().parents[3]


class Boom(Exception):
    pass


def test_an_exception_at_every_statement_leaves_the_state_before(store: Store) -> None:
    prepare(store)
    before = snapshot(store)
    target = 0
    while True:
        target += 1
        seen = 0

        def fail(*_: Any, at: int = target) -> None:
            nonlocal seen
            seen += 1
            if seen == at:
                raise Boom(f"statement {at}")

        plan = store.plan(change(), today=TODAY)
        sa.event.listen(store._engine, "before_cursor_execute", fail)
        try:
            store.apply(plan)
        except Boom:
            assert snapshot(store) == before, f"state changed by a failure at statement {target}"
            continue
        finally:
            sa.event.remove(store._engine, "before_cursor_execute", fail)
        break
    assert target > 10  # the apply really ran that many statements, each one interrupted
    assert store.plan(change(), today=TODAY).empty


def test_a_failing_commit_leaves_the_state_before(store: Store) -> None:
    prepare(store)
    before = snapshot(store)

    def fail(*_: Any) -> None:
        raise Boom("commit")

    plan = store.plan(change(), today=TODAY)
    sa.event.listen(store._engine, "commit", fail)
    try:
        with pytest.raises(Boom):
            store.apply(plan)
    finally:
        sa.event.remove(store._engine, "commit", fail)
    assert snapshot(store) == before


def _kill_points(total: int) -> list[str]:
    chosen = random.Random(total).sample(range(2, total + 1), k=2)
    return [*(f"statement:{n}" for n in chosen), "commit", "after"]


def test_sigkill_at_random_points(store: Store, store_url: str) -> None:
    prepare(store)
    # Statements of one apply of this plan, counted by applying it in a failing transaction.
    total = _count_apply_statements(store)
    for point in _kill_points(total):
        before = snapshot(store)
        child = subprocess.run(
            [sys.executable, "-m", "tests.core.store.crash_child", store_url, point],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert child.returncode == -9, (point, child.returncode, child.stderr.decode()[-2000:])
        if point == "after":
            assert store.plan(change(), today=TODAY).empty, "committed state not complete"
            assert store.status()["last_run"]["status"] == "applied"
        else:
            assert snapshot(store) == before, f"killed at {point}: state is neither"


def _count_apply_statements(store: Store) -> int:
    seen = 0

    def count(*_: Any) -> None:
        nonlocal seen
        seen += 1

    def fail(*_: Any) -> None:
        raise Boom

    plan = store.plan(change(), today=TODAY)
    sa.event.listen(store._engine, "before_cursor_execute", count)
    sa.event.listen(store._engine, "commit", fail)
    try:
        with pytest.raises(Boom):
            store.apply(plan)
    finally:
        sa.event.remove(store._engine, "before_cursor_execute", count)
        sa.event.remove(store._engine, "commit", fail)
    return seen
