"""Waking long polls: agents waiting for work, integrators waiting for a request.

Each waiting call holds an :class:`asyncio.Event` under a key (``school:<id>`` for an
agent, ``request:<id>`` for an integrator following a request). A change made by this
process wakes its key at once; the hub's sweeper also wakes the schools of requests
that appeared in the database since its last look, so that several hub processes on
one database still deliver, within one sweep interval. A woken call always reads the
database again: an event only says "look now", never what changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Waiters"]


class Waiters:
    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.agents: dict[str, int] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @contextmanager
    def listen(self, key: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._events.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            found = self._events.get(key)
            if found is not None:
                found.discard(event)
                if not found:
                    del self._events[key]

    @contextmanager
    def connected(self, agent_id: str) -> Iterator[None]:
        self.agents[agent_id] = self.agents.get(agent_id, 0) + 1
        try:
            yield
        finally:
            left = self.agents[agent_id] - 1
            if left:
                self.agents[agent_id] = left
            else:
                del self.agents[agent_id]

    def online(self) -> set[str]:
        return set(self.agents)

    def _wake_here(self, key: str) -> None:
        for event in self._events.get(key, ()):
            event.set()

    def wake(self, key: str) -> None:
        """Wake every call waiting on ``key``; safe from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake_here(key)
        else:
            loop.call_soon_threadsafe(self._wake_here, key)

    def waiting(self, key: str) -> bool:
        return bool(self._events.get(key))
