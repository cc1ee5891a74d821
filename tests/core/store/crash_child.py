"""Applies the crash test's change in a child process and kills itself part-way.

``python -m tests.core.store.crash_child URL POINT`` where POINT is ``statement:N``
(SIGKILL just before the apply transaction's N-th statement), ``commit`` (just before
COMMIT) or ``after`` (just after the transaction committed).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import sqlalchemy as sa

from misbridge.model import Dataset
from misbridge.result import ExtractResult
from misbridge.store import Store, open_store
from tests.core.store.factory import TODAY, school, student


def prepare(store: Store) -> None:
    """Twenty students, then S19 leaves: the state every crash starts from."""
    store.sync(school(range(20)), today=TODAY)
    store.sync(school(range(19)), today=TODAY)


def change() -> ExtractResult:
    """S0 leaves, S19 comes back, S20 joins, S5 changes surname (and their memberships)."""
    result = school(range(1, 21))
    result.records[Dataset.STUDENTS] = [
        student(n, legal_surname="Changed") if n == 5 else student(n) for n in range(1, 21)
    ]
    return result


def die(*_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(url: str, point: str) -> None:
    store = open_store(url)
    plan = store.plan(change(), today=TODAY)
    engine = store._engine
    if point.startswith("statement:"):
        target = int(point.split(":")[1])
        seen = 0

        def count(*_: Any) -> None:
            nonlocal seen
            seen += 1
            if seen == target:
                die()

        sa.event.listen(engine, "before_cursor_execute", count)
    elif point == "commit":
        sa.event.listen(engine, "commit", die)
    elif point == "after":
        sa.event.listen(engine.pool, "checkin", die)  # the connection goes back, committed
    store.apply(plan)
    sys.exit(3)  # the kill point was never reached


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
