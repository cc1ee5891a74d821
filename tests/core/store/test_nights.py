"""Property, night after night (full, delta, partial, unverified, poorer-source and switch
nights, approvals): no one is disabled without a full trusted read that lacks them, a
leaving date, or the vendor naming them deleted; no field is emptied by a source that
does not carry it; and disables adding up past the cumulative allowance since the last
approval always need an approval."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from misbridge.errors import GuardRefused
from misbridge.model import Address, Dataset, Deletion, Student
from misbridge.result import DatasetOutcome, ExtractResult, OutcomeStatus
from misbridge.store import GuardPolicy, open_store
from tests.core.store.conftest import EmptyStores, require_pg
from tests.core.store.factory import TODAY, extract, rows
from tests.core.store.factory import student as make_student

PEOPLE = range(14)
POLICY = GuardPolicy(max_disable_share=0.10, cumulative_share=0.15, cumulative_days=14)
KIND = st.sampled_from(["full", "full", "delta", "partial", "unverified", "poorer"])


def address(n: int) -> Address:
    return Address((f"{n} School Lane", "Oakfield"), f"OX{n} 1AA")


class NightsMachine(RuleBasedStateMachine):
    backend: ClassVar[str]
    stores: ClassVar[EmptyStores]

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(self.stores.url(self.backend))
        self.prefix = "a"
        self.night = 0
        self.enabled: dict[int, bool] = {}
        # People whose id from the MIS in use the store holds (a switch clears them; a
        # deletion can only name someone the store can find by that id).
        self.linked: set[int] = set()
        # The cumulative window: disables less re-enables of the plans applied since the
        # last approval.
        self.window_sum = 0
        self.pending: tuple[ExtractResult, str, int, int] | None = None

    def teardown(self) -> None:
        self.store.close()

    @property
    def mis(self) -> str:
        return "wonde" if self.prefix == "a" else "arbor"

    @property
    def today(self) -> date:
        # One night a day, inside one cumulative window (a fortnight).
        return TODAY.replace(day=1 + self.night % 13)

    def record(self, n: int, *, carries_address: bool) -> Student:
        return make_student(
            n, mis_id=f"{self.prefix}{n}", home_address=address(n) if carries_address else None
        )

    def night_of(
        self, kind: str, present: set[int], deleted: set[int]
    ) -> tuple[ExtractResult, dict[int, bool]]:
        """The extract, and what the store must make of each person it decides about."""
        chosen = sorted(present)
        records = [self.record(n, carries_address=kind != "poorer") for n in chosen]
        status = {
            "full": OutcomeStatus.COMPLETE,
            "poorer": OutcomeStatus.COMPLETE,
            "delta": OutcomeStatus.COMPLETE,
            "partial": OutcomeStatus.PARTIAL,
            "unverified": OutcomeStatus.UNVERIFIED,
        }[kind]
        result = extract(self.mis, {Dataset.STUDENTS: records})
        result.outcomes[Dataset.STUDENTS] = DatasetOutcome(
            Dataset.STUDENTS, status, len(records), delta=kind == "delta"
        )
        if kind == "poorer":
            result.lacks = frozenset({"Student.home_address"})
        expect = dict.fromkeys(chosen, True)
        if kind == "delta":
            gone = sorted(deleted - present)
            result.deletions[Dataset.STUDENTS] = [
                Deletion("Student", f"{self.prefix}{n}") for n in gone
            ]
            expect.update(dict.fromkeys((n for n in gone if n in self.linked), False))
        if kind in ("full", "poorer"):
            expect.update({n: False for n in self.enabled if n not in present})
        return result, expect

    def judged(self, expect: dict[int, bool]) -> tuple[int, int, bool]:
        active = sum(self.enabled.values())
        disables = sum(1 for n, on in expect.items() if not on and self.enabled.get(n))
        reenables = sum(1 for n, on in expect.items() if on and self.enabled.get(n) is False)
        if not active or not disables:
            return disables, reenables, False
        over_night = disables / active > POLICY.max_disable_share
        net = max(self.window_sum, 0)
        base = active + net
        total = net + disables - reenables
        return disables, reenables, over_night or total / base > POLICY.window_share

    @rule(
        kind=KIND,
        present=st.sets(st.sampled_from(PEOPLE), min_size=1),
        deleted=st.sets(st.sampled_from(PEOPLE), max_size=2),
    )
    def night(self, kind: str, present: set[int], deleted: set[int]) -> None:
        self.night += 1
        result, expect = self.night_of(kind, present, deleted)
        disables, reenables, refusal = self.judged(expect)
        try:
            self.store.sync(result, today=self.today, policy=POLICY)
        except GuardRefused as refused:
            assert refusal, "the guard refused a plan within its limits"
            self.pending = (result, refused.context["plan_hash"], disables, reenables)
            return
        assert not refusal, "disables past an allowance went through without an approval"
        self.pending = None
        self.window_sum += disables - reenables
        self.enabled.update(expect)
        self.linked |= present

    @precondition(lambda self: self.pending is not None)
    @rule()
    def approve(self) -> None:
        assert self.pending is not None
        result, plan_hash, _, _ = self.pending
        self.store.sync(result, today=self.today, policy=POLICY, approve=plan_hash)
        _, expect = self._replay(result)
        self.enabled.update(expect)
        self.linked |= {int(r.mis_id[1:]) for r in result.of(Dataset.STUDENTS)}  # type: ignore[union-attr]
        self.window_sum = 0  # an approval starts a new window
        self.pending = None

    def _replay(self, result: ExtractResult) -> tuple[None, dict[int, bool]]:
        outcome = result.outcomes[Dataset.STUDENTS]
        present = {int(r.mis_id[1:]) for r in result.of(Dataset.STUDENTS)}  # type: ignore[union-attr]
        expect = dict.fromkeys(present, True)
        for deletion in result.deletions.get(Dataset.STUDENTS, []):
            n = int(deletion.mis_id[1:])
            if n in self.linked and n not in present:
                expect[n] = False
        if outcome.trusted:
            expect.update({n: False for n in self.enabled if n not in present})
        return None, expect

    @rule()
    def switch_mis(self) -> None:
        self.store.switch_mis()
        self.prefix = "b" if self.prefix == "a" else "a"
        self.linked = set()
        self.pending = None

    @invariant()
    def only_what_may_be_disabled_is_and_nothing_is_blanked(self) -> None:
        stored = {r["upn"]: r for r in rows(self.store, "student")}
        assert len(stored) == len(self.enabled)  # no duplicates, nobody deleted
        for n, on in self.enabled.items():
            row = stored[make_student(n).upn]
            assert row["enabled"] is on, (n, on)
            # Every person was first stored from a source that carries the address (or,
            # from a poorer one, never had one): a poorer source never empties it.
            if row["home_address"] is not None:
                assert row["home_address"]["postcode"] == address(n).postcode


class SQLiteNights(NightsMachine):
    backend = "sqlite"


class PostgresNights(NightsMachine):
    backend = "postgresql"


_SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


class TestNightsSQLite(SQLiteNights.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=40, stateful_step_count=12, **_SETTINGS)

    @classmethod
    def setUpClass(cls) -> None:
        SQLiteNights.stores = EmptyStores(Path(tempfile.mkdtemp(prefix="mbnights-")))

    @classmethod
    def tearDownClass(cls) -> None:
        SQLiteNights.stores.close()
        shutil.rmtree(SQLiteNights.stores.folder, ignore_errors=True)


class TestNightsPostgreSQL(PostgresNights.TestCase):  # type: ignore[name-defined,misc]
    settings = settings(max_examples=12, stateful_step_count=10, **_SETTINGS)

    @classmethod
    def setUpClass(cls) -> None:
        require_pg()
        PostgresNights.stores = EmptyStores(Path(tempfile.mkdtemp(prefix="mbnights-")))

    @classmethod
    def tearDownClass(cls) -> None:
        if "stores" in vars(PostgresNights):
            PostgresNights.stores.close()
            shutil.rmtree(PostgresNights.stores.folder, ignore_errors=True)
