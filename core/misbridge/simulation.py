"""What every HTTP simulator shares: latency, injected faults, request counts, serving.

A plugin's simulator is an ASGI application that speaks its vendor's wire format.
Wrapping it in :class:`FaultInjector` adds, without the simulator knowing:

- a latency per request (the benchmarks use 40 ms);
- faults matched by path and counted per match: an HTTP status with the vendor's own
  body and headers (429 with ``Retry-After``, 500, 503), a delay longer than the
  client's deadline, a body cut short mid-stream, an HTML maintenance page with 200.

The same app runs in-process for tests (``httpx.ASGITransport``: the plugin's real
HTTP code runs, no socket) and on a loopback port for the demo and the benchmarks
(:func:`serve_loopback`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Literal

import httpx
from attrs import define, field, frozen

__all__ = ["MAINTENANCE_PAGE", "Fault", "FaultInjector", "asgi_transport", "serve_loopback"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Down for maintenance</title></head>"
    b"<body><h1>We'll be back soon</h1></body></html>"
)


@frozen
class Fault:
    """One injected fault.

    ``match`` is a substring of ``path?query`` ("" matches every request); the first
    ``skip`` matching requests pass, then the next ``times`` get the fault.

    kinds: ``status`` (answer ``status`` with ``body``/``headers``), ``delay`` (sleep
    ``seconds`` before answering normally), ``truncate`` (send half the real body, then
    drop the connection), ``html`` (a maintenance page with status 200).
    """

    kind: Literal["status", "delay", "truncate", "html"]
    match: str = ""
    skip: int = 0
    times: int = 1
    status: int = 503
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @classmethod
    def rate_limit(
        cls, *, match: str = "", skip: int = 0, times: int = 1, retry_after: str | None = "1"
    ) -> Fault:
        headers = (("retry-after", retry_after),) if retry_after is not None else ()
        return cls("status", match=match, skip=skip, times=times, status=429, headers=headers)


@define
class _FaultState:
    fault: Fault
    seen: int = 0
    fired: int = 0


@define
class FaultInjector:
    """ASGI middleware adding latency and faults around a simulator app."""

    app: ASGIApp
    latency: float = 0.0
    faults: list[Fault] = field(factory=list)
    requests: int = 0
    faults_fired: int = 0
    _states: list[_FaultState] = field(factory=list, init=False)
    _lock: threading.Lock = field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        self._states = [_FaultState(f) for f in self.faults]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)
            self._states.append(_FaultState(fault))

    def _pick(self, target: str) -> Fault | None:
        with self._lock:
            self.requests += 1
            for state in self._states:
                if state.fault.match not in target:
                    continue
                state.seen += 1
                if state.seen > state.fault.skip and state.fired < state.fault.times:
                    state.fired += 1
                    self.faults_fired += 1
                    return state.fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        fault = self._pick(scope["path"] + ("?" + query if query else ""))
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "status":
            await _answer(send, fault.status, fault.body, fault.content_type, fault.headers)
        elif fault.kind == "html":
            await _answer(send, 200, MAINTENANCE_PAGE, "text/html; charset=utf-8", ())
        elif fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        else:
            await self._truncated(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise ConnectionResetError("simulated connection drop mid-body")


async def _answer(
    send: Send, status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...]
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def asgi_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An in-process transport to ``app``: the client's real code runs, no socket."""
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


@contextlib.contextmanager
def serve_loopback(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` on a loopback port (a free one unless ``port`` is given) in a
    background thread; yields its base URL."""
    import uvicorn

    if not port:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"simulator:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the simulator did not start on the loopback interface")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
