"""The structured stream merge and task set every web-API plugin reads through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from misbridge.errors import SourceUnavailableError
from misbridge.streams import TaskSet, merge


async def _source(name: str, count: int, log: list[str], delay: float = 0.0) -> AsyncIterator[str]:
    try:
        for n in range(count):
            await asyncio.sleep(delay)
            yield f"{name}{n}"
    finally:
        log.append(f"closed {name}")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=5), st.integers(1, 4))
def test_merge_yields_every_item_once(counts: list[int], buffer: int) -> None:
    async def run() -> list[str]:
        log: list[str] = []
        sources = [_source(f"s{i}.", c, log) for i, c in enumerate(counts)]
        items = [item async for item in merge(*sources, buffer=buffer)]
        assert sorted(log) == sorted(f"closed s{i}." for i in range(len(counts)))
        return items

    items = asyncio.run(run())
    assert sorted(items) == sorted(f"s{i}.{n}" for i, c in enumerate(counts) for n in range(c))


def test_a_failing_source_raises_its_own_error_and_stops_the_others() -> None:
    log: list[str] = []

    async def failing() -> AsyncIterator[str]:
        yield "f0"
        raise SourceUnavailableError("the staff list answered 503")

    async def run() -> None:
        async for _ in merge(failing(), _source("slow", 1000, log, delay=0.01)):
            pass

    # The plugin's error, as it is (not an ExceptionGroup): the pipeline reports it.
    with pytest.raises(SourceUnavailableError, match="503"):
        asyncio.run(run())
    assert log == ["closed slow"]


def test_a_cancelled_consumer_stays_cancelled_and_takes_the_sources_with_it() -> None:
    log: list[str] = []
    seen: list[str] = []

    async def consume() -> None:
        async for item in merge(_source("a", 1000, log, 0.01), _source("b", 1000, log, 0.01)):
            seen.append(item)

    async def run() -> None:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sorted(log) == ["closed a", "closed b"]
        assert all(isinstance(item, str) for item in seen)

    asyncio.run(run())


def test_a_stream_closed_early_closes_its_sources() -> None:
    log: list[str] = []

    async def run() -> str:
        stream = merge(_source("a", 1000, log, 0.001), _source("b", 1000, log, 0.001))
        first = await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        return first

    assert asyncio.run(run())[0] in "ab"
    assert sorted(log) == ["closed a", "closed b"]


def test_a_task_set_cancels_what_is_left_and_retrieves_failures() -> None:
    cancelled: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append("slow")
            raise
        return 1

    async def broken() -> int:
        raise SourceUnavailableError("never awaited")

    async def run() -> int:
        async with TaskSet[int]() as ahead:
            quick = ahead.start(asyncio.sleep(0, result=7))
            ahead.start(slow())
            ahead.start(broken())
            return await quick

    loop_errors: list[object] = []

    async def main() -> int:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        return await run()

    assert asyncio.run(main()) == 7
    assert cancelled == ["slow"]
    assert loop_errors == []  # the broken task's error was retrieved, not logged
