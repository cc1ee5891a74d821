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

from misbridge.errors import GuardRefused, StoreError
from misbridge.store.engine import DEFAULT_URL
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
