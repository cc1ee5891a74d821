"""Concurrent reads inside one extract stream, structured so that nothing leaks.

Two shapes recur in every web-API plugin:

- :func:`merge`: several streams read at once (one per endpoint, or the pages of a
  change log), their items yielded as they arrive;
- :class:`TaskSet`: requests started ahead of need (the next page, a batch of photos)
  and awaited later in order.

Both live inside an ``async def`` generator, where a bare :class:`asyncio.TaskGroup`
is unsafe: a child failing while the generator is suspended at a ``yield`` would cancel
the *consumer's* task somewhere in its own code. So children never raise into the
group: a source's error is handed to the consumer, which raises it from inside the
stream, and leaving the stream (end, error, ``aclose()`` or cancellation) cancels and
awaits every child before the stream is done. Cancellation is never forwarded as an
item: a cancelled consumer stays cancelled, and the children are cancelled with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = ["TaskSet", "merge"]

T = TypeVar("T")

_DONE: Any = object()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


async def merge(*sources: AsyncIterator[T], buffer: int = 16) -> AsyncIterator[T]:
    """Items of every source as they arrive; the first error stops them all.

    ``buffer`` bounds the items read ahead of the consumer (back-pressure: a slow
    consumer slows the reads). Each source is closed (``aclose()``) when it ends or is
    cancelled, so its own ``finally`` blocks run before the merge is done.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=buffer)

    async def pump(source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                await queue.put(item)
        except Exception as exc:  # handed to the consumer, which raises it
            await queue.put(_Failure(exc))
            return
        finally:
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
        await queue.put(_DONE)

    error: Exception | None = None
    closing = False
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(pump(s)) for s in sources]
        try:
            remaining = len(tasks)
            while remaining:
                item = await queue.get()
                if item is _DONE:
                    remaining -= 1
                elif isinstance(item, _Failure):
                    error = item.error
                    break
                else:
                    yield item
        except Exception as exc:  # thrown in at a yield: raised outside the group, as is
            error = exc
        except GeneratorExit:
            # aclose() at a yield: the group would wrap it in an ExceptionGroup, so the
            # children are cancelled and awaited here and the stream simply ends.
            closing = True
        finally:
            for task in tasks:
                task.cancel()
    if error is not None:
        raise error
    if closing:
        return


class TaskSet(Generic[T]):
    """Coroutines started now and awaited later; leaving the block cancels the rest.

    ::

        async with TaskSet[list[Row]]() as ahead:
            pages = [ahead.start(client.page(n)) for n in range(4)]
            for page in pages:
                for row in await page:
                    yield row

    On leaving (normally, by an error, ``aclose()`` of the enclosing stream or
    cancellation) every task still running is cancelled and awaited, and the failures of
    tasks nobody awaited are retrieved, so none is logged as "never retrieved" and none
    outlives the stream.
    """

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[T]] = []

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.append(task)
        return task

    async def __aenter__(self) -> TaskSet[T]:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.cancel()

    async def cancel(self) -> None:
        """Cancel and await every task still running (also what leaving the block does)."""
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            # wait() never raises the tasks' errors; only our own cancellation.
            await asyncio.wait(pending)
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()
        self._tasks.clear()
