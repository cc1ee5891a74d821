"""The shared HTTP client: retries, Retry-After, deadlines, limits and host safety."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    SourceFormatError,
    SourceUnavailableError,
)
from misbridge.http import HttpPolicy, MisHttpClient, parse_retry_after
from misbridge.simulation import Fault, FaultInjector, asgi_transport

FAST = HttpPolicy(attempts=4, wait_initial=0.0, wait_max=0.0, request_deadline=2.0)


async def ok_app(scope, receive, send):  # type: ignore[no-untyped-def]
    body = b'{"data": [1, 2, 3]}'
    if scope["path"] == "/slow":
        await asyncio.sleep(5)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def client_for(injector: FaultInjector, policy: HttpPolicy = FAST) -> MisHttpClient:
    return MisHttpClient(
        "test", "https://mis.example", transport=asgi_transport(injector), policy=policy
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=503),
        Fault("status", status=500),
        Fault.rate_limit(retry_after="0"),
        Fault("html"),
        Fault("truncate"),
    ],
    ids=["503", "500", "429", "maintenance-page", "truncated"],
)
async def test_transient_faults_are_retried_then_succeed(fault: Fault) -> None:
    injector = FaultInjector(ok_app, faults=[fault])
    async with client_for(injector) as client:
        assert await client.get_json("/x") == {"data": [1, 2, 3]}
        assert client.requests_sent == 2
    assert injector.faults_fired == 1


async def test_retries_are_bounded_and_fail_clearly() -> None:
    injector = FaultInjector(ok_app, faults=[Fault("status", status=503, times=99)])
    async with client_for(injector) as client:
        with pytest.raises(SourceUnavailableError, match="still failing with HTTP 503 after 4"):
            await client.get_json("/students")
        assert client.requests_sent == 4


async def test_rate_limit_exhausted_is_a_rate_limited_error() -> None:
    injector = FaultInjector(ok_app, faults=[Fault.rate_limit(retry_after="0", times=99)])
    async with client_for(injector) as client:
        with pytest.raises(RateLimitedError):
            await client.get_json("/students")


async def test_retry_after_beyond_the_clamp_fails_at_once() -> None:
    injector = FaultInjector(ok_app, faults=[Fault.rate_limit(retry_after="3600")])
    policy = HttpPolicy(attempts=4, wait_initial=0.0, max_retry_after=60)
    async with client_for(injector, policy) as client:
        with pytest.raises(RateLimitedError, match="wait 3600s") as raised:
            await client.get_json("/students")
        assert raised.value.retry_after == 3600
        assert client.requests_sent == 1


async def test_retry_after_is_honoured() -> None:
    injector = FaultInjector(ok_app, faults=[Fault.rate_limit(retry_after="1")])
    async with client_for(injector) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.get_json("/x")
        assert loop.time() - started >= 0.9


async def test_deadline_bounds_a_slow_answer() -> None:
    policy = HttpPolicy(attempts=1, request_deadline=0.3)
    async with client_for(FaultInjector(ok_app), policy) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(SourceUnavailableError, match=r"longer than 0\.3s"):
            await client.get_json("/slow")
        assert loop.time() - started < 2


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, SourceFormatError)],
)
async def test_client_errors_are_not_retried(status: int, error: type[Exception]) -> None:
    injector = FaultInjector(ok_app, faults=[Fault("status", status=status, times=9)])
    async with client_for(injector) as client:
        with pytest.raises(error):
            await client.get_json("/x")
        assert client.requests_sent == 1


async def test_links_to_other_hosts_are_refused_before_sending() -> None:
    injector = FaultInjector(ok_app)
    async with client_for(injector) as client:
        with pytest.raises(SourceFormatError, match=r"evil\.example"):
            await client.get_json("https://evil.example/v1.0/schools")
        with pytest.raises(SourceFormatError):
            await client.get_json("http://mis.example/downgraded")
    assert injector.requests == 0


async def test_body_cap() -> None:
    policy = HttpPolicy(attempts=1, max_body_bytes=5)
    async with client_for(FaultInjector(ok_app), policy) as client:
        with pytest.raises(SourceFormatError, match="larger than 5 bytes"):
            await client.get_json("/x")


async def test_in_flight_requests_never_exceed_the_pool() -> None:
    in_flight = 0
    peak = 0

    async def counting_app(scope, receive, send):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        await ok_app(scope, receive, send)

    policy = HttpPolicy(attempts=1, concurrency=3)
    async with MisHttpClient(
        "t", "https://mis.example", transport=httpx.ASGITransport(counting_app), policy=policy
    ) as client:
        await asyncio.gather(*(client.get_json(f"/p{i}") for i in range(20)))
    assert peak == 3


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after("yesterday", now) is None
    assert parse_retry_after(None, now) is None


@given(st.text(max_size=40))
def test_parse_retry_after_never_crashes(value: str) -> None:
    result = parse_retry_after(value)
    assert result is None or result >= 0
