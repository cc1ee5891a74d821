"""The Partner Data API 2.0 client, on the shared :class:`MisHttpClient`.

The wire format is the one bromcom-essentials-dotnet speaks (``BromcomApiTransport.cs``).

``GET /v2/<Entity>?schoolId=<n>&entityFilter=<url-encoded filter>{page:N}``: the page
marker goes *after* the encoded filter, unencoded, as Bromcom's own clients send it.
Pages are 0-based; a page holding ``page_size`` rows means another may follow, so the
next page is requested while this one is being mapped (it costs one empty page at the
end, and saves a round trip per page on large entities).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from misbridge.plugin import (
    AuthenticationError,
    MisHttpClient,
    PermissionDeniedError,
    Secret,
    SourceFormatError,
)
from misbridge_bromcom.settings import BromcomConfig

__all__ = ["GRANT_HINT", "PartnerApi", "denied"]

Row = dict[str, Any]

GRANT_HINT = "tick it on Bromcom's Third Party Access Permissions page for this application"


def denied(entity: str, exc: PermissionDeniedError | None = None) -> PermissionDeniedError:
    """The school has not granted ``entity``: name it as the Bromcom admin sees it."""
    return PermissionDeniedError(
        f"bromcom: the school has not granted the entity '{entity}'; {GRANT_HINT}",
        missing=(entity,),
        mis="bromcom",
        entity=entity,
    )


class PartnerApi:
    """One school's Partner API connection (headers set once; the secret stays inside)."""

    def __init__(
        self,
        config: BromcomConfig,
        application_id: str,
        secret: Secret,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.config = config
        self.http = MisHttpClient(
            "bromcom",
            str(config.base_url),
            headers={
                "ApplicationId": application_id,
                "ApplicationSecret": secret.reveal(),
                "Accept": "application/json",
            },
            transport=transport,
            policy=config.policy,
            allowed_hosts=frozenset({config.photo_url.host}),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def url(self, entity: str, entity_filter: str, page: int) -> str:
        base = self.config.base_url.path.rstrip("/")
        encoded = quote(entity_filter, safe="")
        school = self.config.school_id
        return f"{base}/v2/{entity}?schoolId={school}&entityFilter={encoded}{{page:{page}}}"

    async def page(self, entity: str, entity_filter: str, page: int) -> list[Row]:
        try:
            payload = await self.http.get_json(self.url(entity, entity_filter, page))
        except PermissionDeniedError as exc:
            raise denied(entity, exc) from None
        except AuthenticationError:
            raise AuthenticationError(
                "bromcom: the Partner API refused the application id and secret; check the "
                "application_id setting and the application_secret credential",
                mis="bromcom",
            ) from None
        if not isinstance(payload, dict) or payload.get("success") is not True:
            raise SourceFormatError(
                f"bromcom: {entity} answered without success=true; nothing was read from it",
                mis="bromcom",
                entity=entity,
            )
        data = payload.get("data")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceFormatError(
                f"bromcom: {entity} answered success=true without a list of rows in 'data'",
                mis="bromcom",
                entity=entity,
            )
        return data

    async def pages(self, entity: str, entity_filter: str) -> AsyncIterator[list[Row]]:
        """Every page of ``entity`` matching ``entity_filter``, in order."""
        size = self.config.page_size
        number = 0
        pending: asyncio.Task[list[Row]] | None = None
        try:
            rows = await self.page(entity, entity_filter, number)
            while True:
                if len(rows) >= size:
                    pending = asyncio.ensure_future(self.page(entity, entity_filter, number + 1))
                yield rows
                if pending is None:
                    return
                rows = await pending
                pending = None
                number += 1
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.wait([pending])  # raises only if we are cancelled ourselves
                if not pending.cancelled():
                    pending.exception()  # retrieved: an unread failure would be logged

    async def image(self, photo_id: str) -> tuple[bytes, str | None] | None:
        """A photo's bytes and media type; None when Bromcom has no image for the id."""
        url = self.config.photo_url.copy_merge_params({"EncID": photo_id})
        try:
            return await self.http.get_bytes(url, missing_ok=True)
        except PermissionDeniedError as exc:
            raise denied("Photos", exc) from None
