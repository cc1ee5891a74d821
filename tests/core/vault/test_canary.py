"""Canaries: a known password, token and pupil surname never reach logs or error reports.

The credentials go the whole real way: sealed in the vault, unsealed by the CLI kit's
credential resolution, handed to a small HTTP plugin's ``authenticate``, used against a
simulated MIS that throttles, fails, cuts answers short and echoes secrets and pupil
names back in its error bodies. Logging is the CLI's JSON configuration, rendered to a
buffer end to end (not ``capture_logs``, which skips the processors).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from misbridge import hookimpl
from misbridge.cli_kit import resolve_credentials
from misbridge.convert import source_converter
from misbridge.errors import AuthenticationError, ConfigurationError
from misbridge.hooktypes import CredentialField, ExtractContext, MisInfo, SettingField
from misbridge.http import HttpPolicy, MisHttpClient
from misbridge.logs import configure_logging
from misbridge.model import Dataset
from misbridge.output import write_extract_files
from misbridge.pipeline import extract_async
from misbridge.plugins import get_plugin_manager
from misbridge.simulation import Fault, FaultInjector, asgi_transport
from misbridge.testing.school import sample_school
from misbridge.vault import activate, rotate_keys, seal_credentials, unseal_credentials

USERNAME = "svc-misbridge"
PASSWORD = "Pw-CANARY-9f2b!x"
TOKEN = "tok-CANARY-51c0aa77e3"
SURNAME = "Zzyzxcanarysurname"


def canary_school() -> Any:
    school = sample_school(students=12, staff=3)
    students = list(school.students)
    # One pupil carries the canary surname and has no forename, so that a record
    # error is reported about them: by id, never by name.
    students[0] = attrs.evolve(
        students[0], legal_surname=SURNAME, preferred_surname=SURNAME, legal_forename=None
    )
    students[1] = attrs.evolve(students[1], legal_surname=SURNAME, preferred_surname=None)
    return attrs.evolve(school, students=tuple(students))


class CanaryServer:
    """A vendor that authenticates with Basic auth plus a token header."""

    def __init__(self, school: Any, faults: list[Fault]) -> None:
        self.school = school
        routes = [
            Route("/login", self.login),
            Route("/students", self.students),
            Route("/staff", self.staff),
        ]
        self.app = FaultInjector(Starlette(routes=routes), faults=faults)

    def ok(self, request: Request) -> bool:
        import base64

        basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        return (
            request.headers.get("authorization") == f"Basic {basic}"
            and request.headers.get("x-api-token") == TOKEN
        )

    async def login(self, request: Request) -> Response:
        if not self.ok(request):
            # A careless vendor echoes what it was sent.
            return JSONResponse({"error": f"bad login {request.headers}"}, status_code=401)
        return JSONResponse({"ok": True})

    async def students(self, request: Request) -> Response:
        page = int(request.query_params.get("page", "0"))
        rows = self.school.students[page * 5 : page * 5 + 5]
        return JSONResponse(
            {
                "items": [source_converter.unstructure(r) for r in rows],
                "more": page * 5 + 5 < len(self.school.students),
            }
        )

    async def staff(self, request: Request) -> Response:
        # An error body echoing the token and a pupil's name.
        body = f"invalid request from token {TOKEN} about pupil {SURNAME} password={PASSWORD}"
        return Response(body, status_code=422, media_type="text/plain")


@attrs.define
class Session:
    client: MisHttpClient

    async def aclose(self) -> None:
        await self.client.aclose()


class CanaryPlugin:
    @hookimpl
    def mis_info(self) -> MisInfo:
        return MisInfo(
            name="canary",
            title="Canary MIS",
            credentials=(
                CredentialField("username", "User", "MISBRIDGE_CANARY_USERNAME"),
                CredentialField("password", "Password", "MISBRIDGE_CANARY_PASSWORD"),
                CredentialField("api_token", "API token", "MISBRIDGE_CANARY_TOKEN"),
            ),
            settings=(SettingField("base_url", "API URL", default="http://canary.test"),),
            datasets=(Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS),
        )

    @hookimpl
    async def authenticate(self, context: ExtractContext) -> Session:
        client = MisHttpClient(
            "canary",
            context.require_setting("base_url"),
            auth=(context.credential("username").reveal(), context.credential("password").reveal()),
            headers={"X-Api-Token": context.credential("api_token").reveal()},
            transport=context.transport,
            policy=HttpPolicy(attempts=4, wait_initial=0.0, wait_max=0.0),
        )
        try:
            await client.get_json("/login")
        except Exception:
            await client.aclose()
            raise
        return Session(client)

    async def _students(self, session: Session) -> AsyncIterator[Any]:
        from misbridge.source import SourceStudent

        page = 0
        while True:
            body = await session.client.get_json("/students", {"page": page})
            for item in body["items"]:
                yield source_converter.structure(item, SourceStudent)
            if not body["more"]:
                return
            page += 1

    @hookimpl
    def extract_students(self, session: Session, context: ExtractContext) -> AsyncIterator[Any]:
        return self._students(session)

    @hookimpl
    def extract_staff(self, session: Session, context: ExtractContext) -> AsyncIterator[Any]:
        async def staff() -> AsyncIterator[Any]:
            await session.client.get_json("/staff")
            yield  # pragma: no cover

        return staff()

    @hookimpl
    def extract_years(self, session: Session, context: ExtractContext) -> AsyncIterator[Any]:
        async def years() -> AsyncIterator[Any]:
            # A plugin bug with secrets in its local variables.
            mis_password = context.credential("password").reveal()
            token = context.credential("api_token").reveal()
            raise RuntimeError(f"plugin bug (len {len(mis_password) + len(token)})")
            yield  # pragma: no cover

        return years()

    @hookimpl
    def extract_groups(self, session: Session, context: ExtractContext) -> AsyncIterator[Any]:
        async def groups() -> AsyncIterator[Any]:
            return
            yield  # pragma: no cover

        return groups()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging(json_output=True, level=logging.DEBUG, stream=buffer)
    yield buffer
    structlog.reset_defaults()


def leaks(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [c for c in (PASSWORD, TOKEN, SURNAME, *extra) if c in text]


async def test_extract_with_vault_credentials_leaks_nothing(
    json_log: io.StringIO, tmp_path: Path, home: Path
) -> None:
    activate(passphrase_store="file")
    seal_credentials(
        "canary", {"username": USERNAME, "password": PASSWORD, "api_token": TOKEN}, school="100001"
    )
    plugins = get_plugin_manager(load_entrypoints=False, plugins=[("canary", CanaryPlugin())])
    info = plugins.info("canary")
    credentials = resolve_credentials(info, "100001", env={})  # the CLI kit's own path
    assert credentials["password"].reveal() == PASSWORD

    faults = [
        Fault("status", match="/login", status=503, times=1),
        Fault.rate_limit(match="/students", retry_after="0", times=2),
        Fault("truncate", match="/students?page=1", times=1),
    ]
    server = CanaryServer(canary_school(), faults)
    result = await extract_async(
        "canary",
        settings={"base_url": "http://canary.test"},
        credentials=credentials,
        transport=asgi_transport(server.app),
        pm=plugins,
    )
    assert server.app.faults_fired == 4  # it did fail and retry
    outcomes = {d: o.status.value for d, o in result.outcomes.items()}
    # The canary plugin reports no vendor totals, so what it read is "unverified".
    assert outcomes == {
        Dataset.YEARS: "failed",
        Dataset.STAFF: "failed",
        Dataset.STUDENTS: "unverified",
        Dataset.GROUPS: "unverified",
    }
    assert any(e.mis_id == canary_school().students[0].mis_id for e in result.errors)

    # The error reports an operator reads or ships.
    write_extract_files(result, tmp_path / "out")
    reports = (tmp_path / "out" / "errors.jsonl").read_text() + (
        tmp_path / "out" / "summary.json"
    ).read_text()
    reports += json.dumps([e.as_dict() for e in result.errors])
    reports += json.dumps({d.value: o.message for d, o in result.outcomes.items()})
    assert leaks(reports) == []

    # A wrong password: refused, and the error says nothing secret.
    seal_credentials(
        "canary",
        {"username": USERNAME, "password": PASSWORD + "-old", "api_token": TOKEN},
        school="100002",
    )
    with pytest.raises(AuthenticationError) as refused:
        await extract_async(
            "canary",
            settings={"base_url": "http://canary.test"},
            credentials=resolve_credentials(info, "100002", env={}),
            transport=asgi_transport(CanaryServer(canary_school(), []).app),
            pm=plugins,
        )
    assert leaks(str(refused.value) + repr(refused.value.context)) == []

    output = json_log.getvalue()
    assert "http.retry" in output and "dataset.failed" in output
    passphrase = json.loads((home / "keys" / "passphrases.json").read_text())
    assert leaks(output, tuple(passphrase.values())) == []
    lines = output.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)


def test_exception_frames_never_render_locals(json_log: io.StringIO) -> None:
    log = structlog.get_logger()

    def deep(mis_password: str, token: str) -> None:
        surname = SURNAME  # noqa: F841 - a local the renderer must not print
        raise ValueError("the MIS answered nonsense")

    try:
        deep(PASSWORD, TOKEN)
    except ValueError:
        log.exception("extract.crashed", mis="canary")
    output = json_log.getvalue()
    assert "the MIS answered nonsense" in output and "deep" in output  # traceback is there
    assert leaks(output) == []


def test_console_renderer_never_renders_locals() -> None:
    buffer = io.StringIO()
    configure_logging(json_output=False, stream=buffer)
    try:
        mis_password = PASSWORD
        try:
            raise ValueError(f"length {len(mis_password)}")
        except ValueError:
            structlog.get_logger().exception("crashed")
    finally:
        structlog.reset_defaults()
    assert "Traceback" in buffer.getvalue() and leaks(buffer.getvalue()) == []


def test_vault_operations_and_refusals_log_no_secret(json_log: io.StringIO, home: Path) -> None:
    activate(passphrase_store="file")
    seal_credentials("canary", {"password": PASSWORD, "api_token": TOKEN})
    rotate_keys()
    got = unseal_credentials("canary")
    log = structlog.get_logger()
    # Even careless callers: values logged under vault-ish keys or as PEM text.
    key_file = next((home / "keys").glob("*.key"))
    log.info(
        "careless",
        unsealed={k: v.reveal() for k, v in (got or {}).items()},
        plaintext=PASSWORD,
        note=key_file.read_text(),
        credentials=got,
    )
    path = home / "credentials" / "canary.sealed"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ConfigurationError) as refused:
        unseal_credentials("canary")
    output = json_log.getvalue()
    passphrase = tuple(json.loads((home / "keys" / "passphrases.json").read_text()).values())
    pem_body = key_file.read_text().splitlines()[1]
    assert leaks(output + str(refused.value), (*passphrase, pem_body)) == []
    assert "vault.rotated" in output and "vault.unseal_refused" in output
