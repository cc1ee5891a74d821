"""Property: for any sequence of extracts (complete, partial or failed; leavers, returners,
joiners, changes; switches of MIS; approvals), nobody is ever hard-deleted, internal ids
never change, re-applying is a no-op, and the guard refuses exactly the empty, the
over-threshold and the over-allowance (cumulative) plans, which then change nothing."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from misbridge.errors import GuardRefused
from misbridge.model import Dataset, Student
from misbridge.result import OutcomeStatus
from misbridge.store import open_store
from tests.core.store.conftest import EmptyStores, require_pg
from tests.core.store.factory import COMPLETE, FAILED, PARTIAL, TODAY, extract, rows, snapshot
from tests.core.store.factory import student as make_student

PEOPLE = range(12)


class StoreMachine(RuleBasedStateMachine):
    backend: ClassVar[str]
    stores: ClassVar[EmptyStores]

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(self.stores.url(self.backend))
        self.prefix = "a"  # the MIS in use: "a" (wonde) or "b" (arbor), ids differ
        self.ids: dict[int, str] = {}  # person -> internal id, fixed once created
        self.enabled: dict[int, bool] = {}  # what the store must say
        self.pending: tuple[list[Student], OutcomeStatus, float, str] | None = None
        # Disables less re-enables of the plans applied since the last approval: the
        # cumulative guard's window (every night here is one day).
        self.window_sum = 0

    def teardown(self) -> None:
        self.store.close()

    @property
    def mis(self) -> str:
        return "wonde" if self.prefix == "a" else "arbor"

    def student(self, n: int, *, left: bool, fsm: bool) -> Student:
        leaving = TODAY - timedelta(days=1) if left else None
        return make_student(n, mis_id=f"{self.prefix}{n}", leaving_date=leaving, fsm=fsm)

    def changes(self, records: list[Student], status: OutcomeStatus) -> tuple[int, int]:
        present = {int(r.mis_id[1:]): r.leaving_date is not None for r in records}
        disables = sum(
            1 for n, on in self.enabled.items() if on and present.get(n, status is COMPLETE)
        )
        reenables = sum(
            1 for n, left in present.items() if not left and self.enabled.get(n) is False
        )
        return disables, reenables

    def refusal_expected(self, records: list[Student], status: OutcomeStatus, share: float) -> bool:
        active = sum(self.enabled.values())
        if not active:
            return False
        if status is COMPLETE and not records:
            return True
        disables, reenables = self.changes(records, status)
        if disables / active > share:
            return True
        net = max(self.window_sum, 0)
        total = net + disables - reenables
        return bool(disables) and total / (active + net) > max(0.15, share)

    def absorb(self, records: list[Student], status: OutcomeStatus) -> None:
        present = {int(r.mis_id[1:]): r for r in records}
        links = {r["mis_id"]: r["internal_id"] for r in rows(self.store, "mis_id", mis=self.mis)}
        for n, record in present.items():
            self.enabled[n] = record.leaving_date is None
            internal = links[record.mis_id]
            assert self.ids.setdefault(n, internal) == internal, "a person changed internal id"
        if status is COMPLETE:
            for n in self.enabled:
                if n not in present:
                    self.enabled[n] = False

    def check_idempotent(self, records: list[Student], status: OutcomeStatus) -> None:
        again = extract(self.mis, {Dataset.STUDENTS: records}, status={Dataset.STUDENTS: status})
        assert self.store.plan(again, today=TODAY).empty
        assert self.store.sync(again, today=TODAY).writes == 0

    @rule(
        present=st.sets(st.sampled_from(PEOPLE)),
        leavers=st.sets(st.sampled_from(PEOPLE), max_size=3),
        flipped=st.sets(st.sampled_from(PEOPLE), max_size=3),
        status=st.sampled_from([COMPLETE, COMPLETE, COMPLETE, PARTIAL, FAILED]),
        share=st.sampled_from([0.1, 0.25, 1.0]),
    )
    def sync(
        self,
        present: set[int],
        leavers: set[int],
        flipped: set[int],
        status: OutcomeStatus,
        share: float,
    ) -> None:
        chosen = [] if status is FAILED else sorted(present)
        records = [self.student(n, left=n in leavers, fsm=n in flipped) for n in chosen]
        result = extract(self.mis, {Dataset.STUDENTS: records}, status={Dataset.STUDENTS: status})
        expected = self.refusal_expected(records, status, share)
        before = snapshot(self.store, history=False)
        try:
            self.store.sync(result, today=TODAY, max_disable_share=share)
        except GuardRefused as refused:
            assert expected, "the guard refused a plan within its limits"
            assert snapshot(self.store, history=False) == before
            self.pending = (records, status, share, refused.context["plan_hash"])
            return
        assert not expected, "the guard let an empty or over-threshold plan through"
        self.pending = None
        disables, reenables = self.changes(records, status)
        self.window_sum += disables - reenables
        self.absorb(records, status)
        self.check_idempotent(records, status)

    @precondition(lambda self: self.pending is not None)
    @rule()
    def approve(self) -> None:
        assert self.pending is not None
        records, status, share, plan_hash = self.pending
        result = extract(self.mis, {Dataset.STUDENTS: records}, status={Dataset.STUDENTS: status})
        report = self.store.sync(result, today=TODAY, max_disable_share=share, approve=plan_hash)
        assert report.applied and report.approved
        self.pending = None
        self.window_sum = 0  # an approval starts a new cumulative window
        self.absorb(records, status)
        self.check_idempotent(records, status)

    @rule()
    def switch_mis(self) -> None:
        self.store.switch_mis()
        self.prefix = "b" if self.prefix == "a" else "a"
        self.pending = None  # a refused plan cannot survive a change of the store

    @invariant()
    def nobody_deleted_and_ids_stable(self) -> None:
        stored = {r["id"]: r for r in rows(self.store, "student")}
        assert len(stored) == len(self.ids)  # one row per person ever seen, no duplicates
        for n, internal in self.ids.items():
            assert stored[internal]["enabled"] is self.enabled[n], n
            assert stored[internal]["upn"] == make_student(n).upn  # data kept


class SQLiteMachine(StoreMachine):
    backend = "sqlite"


class PostgresMachine(StoreMachine):
    backend = "postgresql"


_SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


class TestStoreSQLite(SQLiteMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=25, stateful_step_count=10, **_SETTINGS)

    @classmethod
    def setUpClass(cls) -> None:
        SQLiteMachine.stores = EmptyStores(Path(tempfile.mkdtemp(prefix="mbstate-")))

    @classmethod
    def tearDownClass(cls) -> None:
        SQLiteMachine.stores.close()
        shutil.rmtree(SQLiteMachine.stores.folder, ignore_errors=True)


class TestStorePostgreSQL(PostgresMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=12, stateful_step_count=8, **_SETTINGS)

    @classmethod
    def setUpClass(cls) -> None:
        require_pg()
        PostgresMachine.stores = EmptyStores(Path(tempfile.mkdtemp(prefix="mbstate-")))

    @classmethod
    def tearDownClass(cls) -> None:
        if "stores" in vars(PostgresMachine):
            PostgresMachine.stores.close()
            shutil.rmtree(PostgresMachine.stores.folder, ignore_errors=True)
