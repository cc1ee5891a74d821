"""A small but real MIS plugin and simulator, defined only for the core's tests.

The "toy" MIS serves source records as plain JSON over HTTP with a bearer token. It
goes through the same machinery as a real plugin (MisHttpClient, FaultInjector, the
pipeline), so the core can be tested without depending on a vendor plugin, and so the
conformance suite can be shown to fail when a plugin drops or corrupts a field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any

import attrs
import click
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from misbridge import hookimpl
from misbridge.cli_kit import mis_command_group
from misbridge.convert import source_converter as school_converter
from misbridge.errors import AuthenticationError, PermissionDeniedError
from misbridge.hooktypes import (
    CredentialField,
    ExtractContext,
    MisInfo,
    PermissionCheck,
    SettingField,
    SimulatedSource,
)
from misbridge.http import HttpPolicy, MisHttpClient
from misbridge.model import Dataset
from misbridge.simulation import Fault, FaultInjector, asgi_transport
from misbridge.source import (
    SourceAcademicYear,
    SourceAssessment,
    SourceExamResult,
    SourceGroup,
    SourceMembership,
    SourcePhoto,
    SourceRecord,
    SourceSchool,
    SourceStaff,
    SourceStudent,
    SourceYearGroup,
)

TOKEN = "toy-token-5f3a9c"
TYPES: dict[str, type] = {
    t.__name__: t
    for t in (
        SourceAcademicYear,
        SourceYearGroup,
        SourceStaff,
        SourceStudent,
        SourceGroup,
        SourceMembership,
        SourcePhoto,
        SourceExamResult,
        SourceAssessment,
    )
}


class ToySimulator:
    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset] = (),
        faults: Sequence[Fault] = (),
        page_size: int = 50,
    ) -> None:
        self.school = school
        self.deny = set(deny)
        self.page_size = page_size
        app = Starlette(
            routes=[
                Route("/whoami", self.whoami),
                Route("/data/{dataset}", self.data),
            ]
        )
        self.injector = FaultInjector(app, latency=latency, faults=list(faults))

    @property
    def app(self) -> Any:
        return self.injector

    @property
    def requests(self) -> int:
        return self.injector.requests

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {TOKEN}"

    async def whoami(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": "bad token"}, status_code=401)
        return JSONResponse({"denied": sorted(d.value for d in self.deny)})

    async def data(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": "bad token"}, status_code=401)
        dataset = Dataset(request.path_params["dataset"])
        if dataset in self.deny:
            return JSONResponse({"error": f"no access to {dataset.value}"}, status_code=403)
        page = int(request.query_params.get("page", "0"))
        records = self.school.records(dataset)
        chunk = records[page * self.page_size : (page + 1) * self.page_size]
        return JSONResponse(
            {
                "items": [
                    {"type": type(r).__name__, "record": school_converter.unstructure(r)}
                    for r in chunk
                ],
                "more": (page + 1) * self.page_size < len(records),
                "total": len(records),
            }
        )

    def source(self, base_url: str | None = None) -> SimulatedSource:
        return SimulatedSource(
            settings={"base_url": base_url or "http://toy.test"},
            credentials={"token": TOKEN},
            transport=None if base_url else asgi_transport(self.injector),
        )

    def wrong_credentials(self) -> Mapping[str, str]:
        return {"token": "not-the-token-1234"}

    def close(self) -> None:
        pass


@attrs.define
class ToySession:
    client: MisHttpClient

    async def aclose(self) -> None:
        await self.client.aclose()


class ToyPlugin:
    """The toy MIS. ``corrupt`` names a SourceStudent field it mangles, for negative tests."""

    def __init__(
        self,
        corrupt: str | None = None,
        policy: HttpPolicy | None = None,
        *,
        trusting: bool = False,
    ) -> None:
        self.corrupt = corrupt
        self.policy = policy or HttpPolicy(attempts=3, wait_initial=0.0, wait_max=0.0)
        # A careless plugin (for negative tests): it calls any read to its end whole,
        # never comparing it with the total the vendor sends.
        self.trusting = trusting

    @hookimpl
    def mis_info(self) -> MisInfo:
        return MisInfo(
            name="toy",
            title="Toy MIS",
            credentials=(CredentialField("token", "Toy token", "MISBRIDGE_TOY_TOKEN"),),
            settings=(SettingField("base_url", "Toy API base URL", default="http://toy.test"),),
            datasets=tuple(Dataset),
            simulator=ToySimulator,
        )

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        cli.add_command(mis_command_group(self.mis_info()))

    @hookimpl
    async def authenticate(self, context: ExtractContext) -> ToySession:
        client = MisHttpClient(
            "toy",
            context.require_setting("base_url"),
            headers={"authorization": f"Bearer {context.credential('token').reveal()}"},
            transport=context.transport,
            policy=self.policy,
        )
        try:
            await client.get_json("/whoami")
        except AuthenticationError:
            await client.aclose()
            raise
        return ToySession(client)

    @hookimpl
    async def check_permissions(
        self, session: ToySession, context: ExtractContext
    ) -> list[PermissionCheck]:
        denied = set((await session.client.get_json("/whoami"))["denied"])
        return [
            PermissionCheck(d, missing=(f"read {d.value}",) if d.value in denied else ())
            for d in Dataset
        ]

    async def _stream(
        self, session: ToySession, dataset: Dataset, context: ExtractContext
    ) -> AsyncIterator[Any]:
        page = read = 0
        if context.since is not None:
            # The toy vendor answers "changes since" with the changed records only.
            context.read(dataset).delta()
        while True:
            try:
                body = await session.client.get_json(f"/data/{dataset.value}", {"page": page})
            except PermissionDeniedError as exc:
                raise PermissionDeniedError(
                    exc.message, missing=(f"read {dataset.value}",)
                ) from None
            for item in body["items"]:
                record = school_converter.structure(item["record"], TYPES[item["type"]])
                if self.corrupt and isinstance(record, SourceStudent):
                    empty = () if self.corrupt in ("telephones", "emails", "addresses") else None
                    record = attrs.evolve(record, **{self.corrupt: empty})
                read += 1
                yield record
            if not body["more"]:
                report = context.read(dataset)
                if self.trusting:
                    report.whole_document(dataset.value, read=read)
                else:
                    # The envelope's total is the vendor's own count of the whole list.
                    report.counted(dataset.value, read=read, expected=body["total"])
                return
            page += 1

    @hookimpl
    def extract_years(self, session: ToySession, context: ExtractContext) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.YEARS, context)

    @hookimpl
    def extract_staff(self, session: ToySession, context: ExtractContext) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.STAFF, context)

    @hookimpl
    def extract_students(
        self, session: ToySession, context: ExtractContext
    ) -> AsyncIterator[SourceRecord]:
        return self._stream(session, Dataset.STUDENTS, context)

    @hookimpl
    def extract_groups(self, session: ToySession, context: ExtractContext) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.GROUPS, context)

    @hookimpl
    def extract_photos(self, session: ToySession, context: ExtractContext) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.PHOTOS, context)

    @hookimpl
    def extract_exam_results(
        self, session: ToySession, context: ExtractContext
    ) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.EXAM_RESULTS, context)

    @hookimpl
    def extract_assessments(
        self, session: ToySession, context: ExtractContext
    ) -> AsyncIterator[Any]:
        return self._stream(session, Dataset.ASSESSMENTS, context)
