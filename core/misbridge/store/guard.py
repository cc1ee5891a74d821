"""The safety guard: plans that would disable too much are refused as a whole.

Evaluated per kind of record (students, staff, groups, memberships, ...), because a
dataset's kinds differ by orders of magnitude: every group of a school disabled is a
small share of the groups dataset once its thousands of memberships are counted.

- *share*: more than ``max_disable_share`` of the kind's active records disabled;
- *empty*: a complete dataset came back with none of a kind the store holds active
  records of (the classic broken-export case), whatever the share allows.

A refused plan can be applied only with ``approve=plan.hash``: the approval is bound
to that exact plan, so the summer handover (a whole year group leaving) goes through
without switching the guard off, and anything else still gets checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from misbridge.errors import ConfigurationError
from misbridge.store.kinds import KINDS
from misbridge.store.plan import GuardBreach

if TYPE_CHECKING:
    from misbridge.store.plan import Plan
    from misbridge.store.state import StoreState

__all__ = ["check_share", "evaluate_guard"]


def check_share(max_disable_share: float) -> float:
    if not 0.0 <= max_disable_share <= 1.0:
        raise ConfigurationError(
            f"max_disable_share must be between 0 and 1 (0.10 means 10%), not {max_disable_share}"
        )
    return float(max_disable_share)


def evaluate_guard(
    plan: Plan, state: StoreState, extracted: Mapping[str, int]
) -> list[GuardBreach]:
    breaches: list[GuardBreach] = []
    limit = plan.max_disable_share
    for dataset, dplan in plan.datasets.items():
        disables = Counter(d.kind for d in dplan.disables)
        for kind in (k for k in KINDS if k.dataset is dataset):
            ks = state.kinds.get(kind.name)
            active = ks.active if ks is not None else 0
            if not active:
                continue
            count = disables.get(kind.name, 0)
            if dplan.trusted and extracted.get(kind.name, 0) == 0:
                breaches.append(GuardBreach(dataset, kind.name, "empty", count, active, limit))
            elif count / active > limit:
                breaches.append(GuardBreach(dataset, kind.name, "share", count, active, limit))
    return breaches
