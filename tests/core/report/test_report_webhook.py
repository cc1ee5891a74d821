"""The built-in report_errors plugin, over real HTTP on the loopback interface."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stamina
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from misbridge.errors import RecordError
from misbridge.report import webhook
from misbridge.simulation import serve_loopback
from misbridge.validate import make_error

SUMMARY: dict[str, object] = {"mis": "sims", "ok": True, "errors": 2}


@pytest.fixture(autouse=True)
def _no_waiting() -> Iterator[None]:
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_first = fail_first
        self.calls = 0
        self.app = Starlette(routes=[Route("/{path:path}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        self.calls += 1
        if self.calls <= self.fail_first:
            return JSONResponse({"busy": True}, status_code=503)
        self.posts.append(json.loads(await request.body()))
        self.headers.append(dict(request.headers))
        return JSONResponse({"ok": True})


def errors(n: int) -> list[RecordError]:
    return [
        make_error("MB2002", dataset="students", mis="sims", mis_id=str(i), label=f"MIS id {i}")
        for i in range(n)
    ]


def test_hook_posts_batches_with_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = Receiver()
    with serve_loopback(receiver.app) as base:
        monkeypatch.setenv("MISBRIDGE_REPORT_URL", f"{base}/hook/errors")
        monkeypatch.setenv("MISBRIDGE_REPORT_TOKEN", "tok-123")
        webhook.report_errors(errors=errors(2500), summary=SUMMARY)
    assert [(p["part"], p["parts"], len(p["errors"])) for p in receiver.posts] == [
        (1, 3, 1000),
        (2, 3, 1000),
        (3, 3, 500),
    ]
    first = receiver.posts[0]
    assert first["schema"] == "misbridge.errors/1" and first["summary"] == SUMMARY
    assert set(first["errors"][0]) == {
        "dataset",
        "mis",
        "mis_id",
        "record_label",
        "field",
        "code",
        "severity",
        "stage",
        "message",
    }
    assert receiver.headers[0]["authorization"] == "Bearer tok-123"


def test_unset_url_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISBRIDGE_REPORT_URL", raising=False)
    sent: list[httpx.Request] = []
    monkeypatch.setattr(webhook, "post_errors", lambda *a, **k: sent.append(a))  # type: ignore[arg-type]
    webhook.report_errors(errors=errors(1), summary=SUMMARY)
    assert sent == []


def test_retries_a_busy_service_then_delivers() -> None:
    receiver = Receiver(fail_first=2)
    with serve_loopback(receiver.app) as base:
        assert webhook.post_errors(f"{base}/hook/errors", errors(3), SUMMARY) is True
    assert receiver.calls == 3 and len(receiver.posts) == 1


def test_failures_are_logged_never_raised_and_leak_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = Receiver(fail_first=99)
    with serve_loopback(receiver.app) as base, capture_logs() as logs:
        monkeypatch.setenv("MISBRIDGE_REPORT_URL", f"{base}/secret-path/errors?key=abc")
        monkeypatch.setenv("MISBRIDGE_REPORT_TOKEN", "tok-456")
        webhook.report_errors(errors=errors(1), summary=SUMMARY)  # does not raise
    assert receiver.calls == 3
    (event,) = [e for e in logs if e["event"].startswith("report.webhook")]
    assert event["event"] == "report.webhook.failed" and event["host"] == "127.0.0.1"
    text = repr(logs)
    assert "tok-456" not in text and "secret-path" not in text and "key=abc" not in text


def test_unreachable_service_is_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with capture_logs() as logs:
        ok = webhook.post_errors(
            "https://reports.example.org/e",
            errors(1),
            SUMMARY,
            transport=httpx.MockTransport(refuse),
        )
    assert ok is False
    assert logs[-1]["event"] == "report.webhook.failed" and logs[-1]["reason"] == "ConnectError"


@pytest.mark.parametrize(
    "url", ["http://reports.example.org/e", "ftp://x/y", "not a url", "file:///etc/passwd"]
)
def test_refuses_plain_http_off_loopback_and_odd_schemes(url: str) -> None:
    with capture_logs() as logs:
        assert webhook.post_errors(url, errors(1), SUMMARY) is False
    assert logs[-1]["event"] == "report.webhook.bad_url"


def test_client_errors_are_not_retried() -> None:
    calls: list[int] = []

    def reject(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"error": "bad"})

    ok = webhook.post_errors(
        "https://reports.example.org/e", errors(1), SUMMARY, transport=httpx.MockTransport(reject)
    )
    assert ok is False and len(calls) == 1
