"""The safety guard: plans that would disable or blank too much are refused as a whole.

Evaluated per kind of record (students, staff, groups, memberships, ...), because a
dataset's kinds differ by orders of magnitude: every group of a school disabled is a
small share of the groups dataset once its thousands of memberships are counted.

- *share*: tonight's plan disables more than ``max_disable_share`` of the kind's active
  records;
- *empty*: a complete dataset came back with none of a kind the store holds active
  records of (the classic broken-export case), whatever the share allows;
- *blank*: the plan would empty a field that holds data for more than
  ``max_blank_share`` of the kind's active records (a report column removed, a poorer
  source that forgot to say what it lacks);
- *cumulative*: since the last approved plan, within ``cumulative_days``, more than
  ``cumulative_share`` of the kind's records would have been disabled (eight nights of
  9% each are not eight small nights).

A refused plan can be applied only with ``approve=plan.hash``: the approval is bound
to that exact plan, so the summer handover (a whole year group leaving) goes through
without switching the guard off, and anything else still gets checked. An approval
also starts a new cumulative window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from attrs import frozen

from misbridge.errors import ConfigurationError
from misbridge.store.kinds import KINDS
from misbridge.store.plan import GuardBreach

if TYPE_CHECKING:
    from misbridge.store.plan import Plan
    from misbridge.store.state import LedgerEntry, StoreState

__all__ = ["GuardPolicy", "check_share", "evaluate_guard", "window_use"]


def check_share(max_disable_share: float, what: str = "max_disable_share") -> float:
    if not 0.0 <= max_disable_share <= 1.0:
        raise ConfigurationError(
            f"{what} must be between 0 and 1 (0.10 means 10%), not {max_disable_share}"
        )
    return float(max_disable_share)


@frozen
class GuardPolicy:
    """The guard's limits (each a setting: ``[guard]`` in misbridge.toml)."""

    max_disable_share: float = 0.10
    max_blank_share: float = 0.05
    cumulative_share: float = 0.15
    cumulative_days: int = 14

    def __attrs_post_init__(self) -> None:
        check_share(self.max_disable_share)
        check_share(self.max_blank_share, "max_blank_share")
        check_share(self.cumulative_share, "cumulative_share")
        if not 1 <= self.cumulative_days <= 366:
            raise ConfigurationError(
                f"cumulative_days must be between 1 and 366, not {self.cumulative_days}"
            )

    @property
    def window_share(self) -> float:
        """The cumulative limit in force: never stricter than one night's."""
        return max(self.cumulative_share, self.max_disable_share)


@frozen
class WindowUse:
    """How much of the cumulative allowance of one kind the applied plans have used."""

    kind: str
    net_disabled: int
    base: int
    since_plan: str | None  # the approved plan the window starts after, if any

    @property
    def share(self) -> float:
        return self.net_disabled / self.base if self.base else 0.0


def window_use(state: StoreState, kind: str, as_of_ordinal: int, days: int) -> WindowUse:
    """The net disables of ``kind`` since the last approval, within ``days``."""
    entries = _window(state.ledger, kind, as_of_ordinal, days)
    ks = state.kinds.get(kind)
    active = ks.active if ks is not None else 0
    net = max(sum(e.disabled - e.reenabled for e in entries), 0)
    # What would be active had the window's disables not happened: the records there
    # were when it began, and those created since (a growing school is a larger base).
    base = active + net
    approved = state.last_approval
    return WindowUse(kind, net, base, approved.plan_hash if approved else None)


def _window(
    ledger: Sequence[LedgerEntry], kind: str, as_of_ordinal: int, days: int
) -> list[LedgerEntry]:
    after = max((e.id for e in ledger if e.approved), default=0)
    return [
        e
        for e in ledger
        if e.kind == kind and e.id > after and e.as_of_ordinal > as_of_ordinal - days
    ]


def evaluate_guard(
    plan: Plan, state: StoreState, extracted: Mapping[str, int], policy: GuardPolicy
) -> list[GuardBreach]:
    breaches: list[GuardBreach] = []
    limit = policy.max_disable_share
    for dataset, dplan in plan.datasets.items():
        disables = Counter(d.kind for d in dplan.disables)
        reenables = Counter(r.kind for r in dplan.reenables)
        for kind in (k for k in KINDS if k.dataset is dataset):
            ks = state.kinds.get(kind.name)
            active = ks.active if ks is not None else 0
            if not active:
                continue
            count = disables.get(kind.name, 0)
            if dplan.trusted and extracted.get(kind.name, 0) == 0 and kind.name in extracted:
                breaches.append(GuardBreach(dataset, kind.name, "empty", count, active, limit))
            elif count / active > limit:
                breaches.append(GuardBreach(dataset, kind.name, "share", count, active, limit))
            elif count:
                use = window_use(state, kind.name, plan.as_of.toordinal(), policy.cumulative_days)
                total = use.net_disabled + count - reenables.get(kind.name, 0)
                base = use.base or active
                if total / base > policy.window_share:
                    breaches.append(
                        GuardBreach(
                            dataset,
                            kind.name,
                            "cumulative",
                            total,
                            base,
                            policy.window_share,
                            days=policy.cumulative_days,
                        )
                    )
        breaches += _blanks(plan, dataset, state, policy)
    return breaches


#: Columns whose emptying means "ongoing again" (a returner, a re-opened membership),
#: not data lost.
_ENDINGS = frozenset({"leaving_date", "end_date"})


def _blanks(
    plan: Plan, dataset: object, state: StoreState, policy: GuardPolicy
) -> list[GuardBreach]:
    dplan = plan.datasets[dataset]  # type: ignore[index]
    emptied: Counter[tuple[str, str]] = Counter()
    for update in dplan.updates:
        for column, change in update.changes.items():
            if column in _ENDINGS or column == "username":
                continue
            if _held_data(change.old) and not _held_data(change.new):
                emptied[(update.kind, column)] += 1
    found = []
    for (kind_name, column), count in sorted(emptied.items()):
        ks = state.kinds.get(kind_name)
        active = ks.active if ks is not None else 0
        if active and count / active > policy.max_blank_share:
            found.append(
                GuardBreach(
                    dplan.dataset,
                    kind_name,
                    "blank",
                    count,
                    active,
                    policy.max_blank_share,
                    field=column,
                )
            )
    return found


def _held_data(value: object) -> bool:
    return value not in (None, "", [], ())
