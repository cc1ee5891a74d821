"""The garbage collector paused for an extract: always put back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from misbridge.errors import AuthenticationError
from misbridge.gcpause import GcPause
from misbridge.model import Dataset
from misbridge.testing.school import sample_school

from .test_pipeline import run
from .toy_mis import ToySimulator


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    """Whatever a test does, the next one starts with the collector on."""
    yield
    gc.enable()


def test_paused_inside_and_enabled_again_after() -> None:
    gc.enable()
    with GcPause():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_again_after_an_exception() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), GcPause():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_an_application_that_turned_it_off_keeps_it_off() -> None:
    gc.disable()
    with GcPause() as pause:
        assert not gc.isenabled()
        for _ in range(3):
            pause.tick()
    assert not gc.isenabled()


def test_overlapping_pauses_restore_the_state_once_the_last_ends() -> None:
    gc.enable()
    first, second = GcPause(), GcPause()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_young_collection_every_so_many_records(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    calls: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    with GcPause(every=10) as pause:
        for _ in range(35):
            pause.tick()
    assert calls == [(0,), (0,), (0,)]


def test_no_collection_while_the_application_keeps_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.disable()
    calls: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    with GcPause(every=10) as pause:
        for _ in range(35):
            pause.tick()
    assert calls == []


async def test_an_extract_pauses_it_and_puts_it_back() -> None:
    gc.enable()
    states: list[bool] = []
    result = await run(
        ToySimulator(sample_school(students=30, staff=4)),
        datasets=[Dataset.STUDENTS],
        on_record=lambda dataset, seen: states.append(gc.isenabled()),
    )
    assert result.ok
    assert states and not any(states)
    assert gc.isenabled()


async def test_an_extract_that_fails_puts_it_back() -> None:
    gc.enable()
    with pytest.raises(AuthenticationError):
        await run(ToySimulator(sample_school(students=30, staff=4)), credentials={"token": "x"})
    assert gc.isenabled()


async def test_an_extract_leaves_it_off_when_it_was_off() -> None:
    gc.disable()
    result = await run(ToySimulator(sample_school(students=30, staff=4)))
    assert result.ok
    assert not gc.isenabled()
