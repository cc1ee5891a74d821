"""The Arbor session: one authenticated client and its readers, shared by the datasets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from misbridge.plugin import (
    ExtractContext,
    HttpPolicy,
    PermissionCheck,
    PermissionDeniedError,
    Session,
)
from misbridge_arbor import extract
from misbridge_arbor.client import ArborClient
from misbridge_arbor.reader import Reader
from misbridge_arbor.settings import ArborConfig

__all__ = ["ArborSession"]


class ArborSession(Session):
    """What ``authenticate`` opens; each dataset reads through it."""

    def __init__(self, client: ArborClient, reader: Reader) -> None:
        self.client = client
        self.reader = reader

    @classmethod
    async def open(cls, context: ExtractContext) -> ArborSession:
        config = ArborConfig.from_context(context)
        client = ArborClient(
            config,
            context.credential("username"),
            context.credential("api_key"),
            transport=context.transport,
            policy=HttpPolicy.from_context(context),
        )
        try:
            # HTTP Basic has no token exchange: one small read proves the credentials
            # (and the application id) before any dataset starts. A 403 proves them too:
            # that dataset will say what it lacks, the others still run.
            probe = {"page-number": config.rest_first_page, "page-size": 1}
            await client.rest_get("/rest-v2/academic-years", probe)
        except PermissionDeniedError:
            pass
        except BaseException:
            await client.aclose()
            raise
        return cls(client, Reader(client))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def check(self, context: ExtractContext) -> Sequence[PermissionCheck]:
        return await extract.check(self, context)

    def years(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.years(self)

    def staff(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.staff(self, context)

    def students(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.students(self, datetime.now(UTC).date(), context)

    def groups(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.groups(self)

    def photos(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.photos(self)

    def exam_results(self, context: ExtractContext) -> AsyncIterator[Any]:
        return extract.exam_results(self)
