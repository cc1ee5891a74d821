"""Latency and injected faults around a simulator's ASGI app.

A plugin's HTTP simulator is an ASGI application that speaks its vendor's wire format.
Wrapping it in :class:`FaultInjector` (what :class:`~misbridge.simulation.HttpSimulator`
does) adds, without the simulator knowing:

- a latency per request (the benchmarks use 40 ms);
- faults matched by path and counted per match: an HTTP status with the vendor's own
  body and headers (429 with ``Retry-After``, 500, 503), a delay longer than the
  client's deadline, a body cut short mid-stream, an HTML maintenance page with 200.

"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from attrs import define, field, frozen

__all__ = ["MAINTENANCE_PAGE", "ASGIApp", "Fault", "FaultInjector"]

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

    The *lying server* kinds answer a well-formed JSON page that is wrong, the way a
    vendor under load or a broken proxy can: ``drop`` (half the records of the page's
    largest list of objects left out), ``empty`` (that list emptied, and any ``more``
    flag or ``next`` link saying the list ends here), ``miscount`` (every ``count`` and
    ``total`` number five more than the truth).
    """

    kind: Literal["status", "delay", "truncate", "html", "drop", "empty", "miscount"]
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

    def seen(self, fault: Fault) -> int:
        """How many requests ``fault`` has matched so far (fired or not)."""
        with self._lock:
            return sum(s.seen for s in self._states if s.fault is fault)

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
        elif fault.kind == "truncate":
            await self._truncated(scope, receive, send)
        else:
            await self._lying(fault.kind, scope, receive, send)

    async def _captured(self, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        return start, b"".join(chunks)

    async def _lying(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await self._captured(scope, receive)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None:
            body = json.dumps(_lie(kind, data)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = await self._captured(scope, receive)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise ConnectionResetError("simulated connection drop mid-body")


def _largest_list(data: Any) -> list[Any] | None:
    """The longest list of objects anywhere in ``data`` (a page's records)."""
    best: list[Any] | None = None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            if item and all(isinstance(x, dict) for x in item) and len(item) > len(best or []):
                best = item
            stack.extend(item)
    return best


def _lie(kind: str, data: Any) -> Any:
    if kind == "miscount":

        def inflate(item: Any) -> Any:
            if isinstance(item, dict):
                return {
                    k: v + 5 if k in ("count", "total") and type(v) is int else inflate(v)
                    for k, v in item.items()
                }
            if isinstance(item, list):
                return [inflate(v) for v in item]
            return item

        return inflate(data)
    records = _largest_list(data)
    if records is not None:
        if kind == "drop":
            del records[: max(1, len(records) // 2)]
        else:
            records.clear()
    if kind == "empty":

        def ended(item: Any) -> None:
            if isinstance(item, dict):
                if item.get("more") is True:
                    item["more"] = False
                if "next" in item and isinstance(item["next"], str):
                    item["next"] = None
                for value in item.values():
                    ended(value)
            elif isinstance(item, list):
                for value in item:
                    ended(value)

        ended(data)
    return data


async def _answer(
    send: Send, status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...]
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
