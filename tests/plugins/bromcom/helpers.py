"""Helpers for the Bromcom tests: a recording transport and one-call extracts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import httpx

from misbridge.hooktypes import PermissionCheck
from misbridge.model import Dataset
from misbridge.pipeline import extract_async, prepare_context
from misbridge.plugins import get_plugin_manager
from misbridge.result import ExtractResult
from misbridge.source import SourceSchool
from misbridge_bromcom import INFO
from misbridge_bromcom.simulator import BromcomSimulator, simulate

R = TypeVar("R")

#: Retries without waiting, so fault tests stay fast.
FAST = {"http_wait_initial": "0", "http_wait_max": "0", "http_request_deadline": "5"}


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and keeps them, to check what went on the wire."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


async def run(
    sim: BromcomSimulator,
    *,
    settings: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
    datasets: Iterable[Dataset] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ExtractResult:
    source = sim.source()
    return await extract_async(
        "bromcom",
        settings={**source.settings, **FAST, **(settings or {})},
        credentials=dict(source.credentials if credentials is None else credentials),
        transport=transport or source.transport,
        datasets=list(datasets) if datasets is not None else list(Dataset),
    )


def make(school: SourceSchool, **options: Any) -> BromcomSimulator:
    return simulate(school, **options)


def of_type(result: ExtractResult, dataset: Dataset, kind: type[R]) -> list[R]:
    """The records of one model type in a dataset (typed, for the assertions)."""
    return [r for r in result.of(dataset) if isinstance(r, kind)]


async def check(
    sim: BromcomSimulator,
    settings: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[Dataset, PermissionCheck]:
    """The permission pre-flight against ``sim``, by dataset."""
    hooks = get_plugin_manager().for_mis("bromcom")
    source = sim.source()
    context = prepare_context(
        INFO,
        settings={**source.settings, **(settings or {})},
        credentials=dict(source.credentials),
        transport=transport or source.transport,
    )
    session = await hooks.authenticate(context)
    try:
        pending = hooks.check_permissions(session, context)
        assert pending is not None
        return {c.dataset: c for c in await pending}
    finally:
        await session.aclose()
