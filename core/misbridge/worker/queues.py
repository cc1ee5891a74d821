"""The broker's names, shared by the hub (which sends) and the workers (which consume).

One queue per cloud MIS (``misbridge.wonde``, ``misbridge.arbor``, ``misbridge.bromcom``),
so that an integrator can give a vendor its own workers and a slow vendor never holds
up another's schools. The one task, ``misbridge.extract``, takes a request id.
"""

from __future__ import annotations

__all__ = ["EXTRACT_TASK", "QUEUE_PREFIX", "queue_for"]

EXTRACT_TASK = "misbridge.extract"
QUEUE_PREFIX = "misbridge."


def queue_for(mis: str, prefix: str = QUEUE_PREFIX) -> str:
    """The queue of ``mis``'s schools (``prefix`` lets integrators share one broker)."""
    return f"{prefix}{mis}"
