"""Redaction: no secret reaches a rendered log line, whatever shape it takes."""

from __future__ import annotations

import io
import json
import logging

import structlog

from misbridge.hooktypes import Secret
from misbridge.logs import REDACTED, configure_logging, redact

CANARY = "Sup3r-Secret-Canary-77"


def render(json_output: bool, emit) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    configure_logging(json_output=json_output, level=logging.DEBUG, stream=buffer)
    try:
        emit(structlog.get_logger())
    finally:
        structlog.reset_defaults()
    return buffer.getvalue()


def test_secret_keys_values_and_types_are_masked() -> None:
    event = redact(
        None,
        "info",
        {
            "event": "login",
            "password": CANARY,
            "headers": {"Authorization": f"Bearer {CANARY}", "Accept": "json"},
            "nested": [{"api_key": CANARY}, {"value": Secret(CANARY)}],
            "argv": ["CommandReporter.exe", f"/PASSWORD:{CANARY}", "/REPORT:x"],
            "note": f"sent Basic {CANARY}",
        },
    )
    assert CANARY not in repr(event)
    assert event["password"] == REDACTED
    assert event["headers"]["Accept"] == "json"
    assert event["argv"][1] == f"/PASSWORD:{REDACTED}"


def test_rendered_json_logs_never_show_a_secret_or_locals() -> None:
    def emit(log) -> None:  # type: ignore[no-untyped-def]
        log.info("auth", token=Secret(CANARY), ApplicationSecret=CANARY)
        mis_password = CANARY  # a local in the failing frame must not be printed
        try:
            raise ValueError("could not log in")
        except ValueError:
            log.exception("failed", attempt=1)
        del mis_password

    output = render(True, emit)
    assert CANARY not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines[0]["token"] == REDACTED
    assert "could not log in" in json.dumps(lines[1])


def test_console_logs_are_redacted_too() -> None:
    output = render(False, lambda log: log.warning("retry", password=CANARY, url="/x"))
    assert CANARY not in output and "retry" in output


def test_secret_never_prints_itself() -> None:
    secret = Secret(CANARY)
    assert CANARY not in f"{secret} {secret!r} {secret:>30}"
    assert secret.reveal() == CANARY
