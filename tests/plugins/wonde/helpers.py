"""Helpers for the Wonde plugin's tests: fast HTTP settings, recording transport, runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from misbridge.hooktypes import ExtractContext
from misbridge.model import Dataset
from misbridge.pipeline import extract_async, prepare_context
from misbridge.plugins import Plugins
from misbridge.result import ExtractResult
from misbridge_wonde import INFO
from misbridge_wonde.simulator import WondeSimulator

#: Retries that take milliseconds, and a deadline short enough to test.
FAST_HTTP = {
    "http_attempts": "3",
    "http_wait_initial": "0.001",
    "http_wait_max": "0.01",
    "http_request_deadline": "0.5",
    "http_max_retry_after": "2",
}


class RecordingTransport(httpx.AsyncBaseTransport):
    """The simulator's in-process transport, noting every request that reached it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    @property
    def hosts(self) -> set[str]:
        return {r.url.host for r in self.requests}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def transport_of(sim: WondeSimulator) -> RecordingTransport:
    inner = sim.source().transport
    assert inner is not None
    return RecordingTransport(inner)


async def run_extract(
    sim: WondeSimulator,
    plugins: Plugins,
    *,
    settings: Mapping[str, str] | None = None,
    datasets: Iterable[Dataset] = (Dataset.STUDENTS,),
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> ExtractResult:
    source = sim.source()
    return await extract_async(
        "wonde",
        settings={**source.settings, **FAST_HTTP, **(settings or {})},
        credentials=dict(credentials if credentials is not None else source.credentials),
        transport=transport or source.transport,
        datasets=list(datasets),
        pm=plugins,
        **kwargs,
    )


def context_for(
    sim: WondeSimulator,
    settings: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ExtractContext:
    source = sim.source()
    # As the core builds it: settings parsed to their declared types (context.values).
    return prepare_context(
        INFO,
        settings={**source.settings, **FAST_HTTP, **(settings or {})},
        credentials=dict(source.credentials),
        transport=transport or source.transport,
    )
