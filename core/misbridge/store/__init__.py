"""The sync store: SQLite by default, PostgreSQL for production.

::

    from misbridge.store import open_store

    with open_store("sqlite:///misbridge.db") as store:
        plan = store.plan(result)          # what would change; the guard's verdict
        plan.render(console)
        report = store.apply(plan)         # one transaction; GuardRefused if unsafe
        report = store.apply(plan, approve=plan.hash)   # after review

Leavers are disabled, never deleted; re-applying the same extract changes nothing;
``switch_mis()`` makes the next apply match records by natural key. See docs/store.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from misbridge.config import DEFAULT_STORE_URL as DEFAULT_URL
from misbridge.errors import GuardRefused, StoreError

if TYPE_CHECKING:
    from misbridge.store.guard import GuardPolicy
    from misbridge.store.plan import (
        Create,
        DatasetPlan,
        FieldChange,
        GuardBreach,
        Link,
        Plan,
        StatusChange,
        Update,
    )
    from misbridge.store.report import SyncReport
    from misbridge.store.store import Store, open_store

__all__ = [
    "DEFAULT_URL",
    "Create",
    "DatasetPlan",
    "FieldChange",
    "GuardBreach",
    "GuardPolicy",
    "GuardRefused",
    "Link",
    "Plan",
    "StatusChange",
    "Store",
    "StoreError",
    "SyncReport",
    "Update",
    "open_store",
]

# The store pulls in SQLAlchemy and Alembic: imported when first used, so that a command
# or a library call that never opens a store never pays for them.
_LAZY = {
    "GuardPolicy": "misbridge.store.guard",
    "Create": "misbridge.store.plan",
    "DatasetPlan": "misbridge.store.plan",
    "FieldChange": "misbridge.store.plan",
    "GuardBreach": "misbridge.store.plan",
    "Link": "misbridge.store.plan",
    "Plan": "misbridge.store.plan",
    "StatusChange": "misbridge.store.plan",
    "Update": "misbridge.store.plan",
    "SyncReport": "misbridge.store.report",
    "Store": "misbridge.store.store",
    "open_store": "misbridge.store.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'misbridge.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
