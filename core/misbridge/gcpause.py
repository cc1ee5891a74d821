"""The cyclic garbage collector paused while an extract builds a school's records.

An extract allocates a few hundred thousand objects that all live to its end (the
decoded pages, the source and model records). Each of CPython's young collections
(one every 700 allocations) and the older ones that follow as the heap grows walks
them all again and frees nothing: measured, a third of a 2,000-pupil Wonde extract's
CPU. Records hold no reference cycles, so nothing is lost by waiting: memory is freed
by reference counting as before, and only cyclic garbage waits for the pause to end.
So that a huge school (or a plugin that makes cycles) cannot grow without bound
meanwhile, :meth:`GcPause.tick` runs a young collection every ``every`` records.

The collector is the process's: while an extract runs, the rest of the process (other
tasks on its event loop, other threads) runs without it too, and its cyclic garbage also
waits. When the pause ends, the next young collection walks what the extract kept
once, instead of every 700 allocations.

Pauses nest and overlap (two extracts on one event loop, or in two threads): the
first to start remembers whether the collector was enabled and the last to end puts
that back, so the collector is never left off by an extract, nor turned on by one
when the application had turned it off itself.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType

__all__ = ["COLLECT_EVERY", "GcPause"]

#: Records between two young collections while paused.
COLLECT_EVERY = 100_000

_lock = threading.Lock()
_depth = 0
_was_enabled = False


class GcPause:
    """``with GcPause() as pause: ... pause.tick()`` once per record."""

    __slots__ = ("_count", "every")

    def __init__(self, every: int = COLLECT_EVERY) -> None:
        self.every = every
        self._count = 0

    def __enter__(self) -> GcPause:
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

    def tick(self) -> None:
        """One more record; every ``every``-th runs a young collection (only when the
        collector was on before the pause: an application that turned it off keeps
        it off)."""
        self._count += 1
        if self._count >= self.every:
            self._count = 0
            if _was_enabled:
                gc.collect(0)
