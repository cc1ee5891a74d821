"""Talking to Arbor: HTTP Basic, REST (N+1 by design), GraphQL, change log, photos.

All requests go through the shared :class:`~misbridge.http.MisHttpClient` (retries on
429/5xx with backoff, which the official SDK lacks; deadlines; bounded concurrency).
This module adds what is Arbor's own: the hosts, the ``x-mis-application-id`` header,
the error body ``{"response": {"code", "reason", "errors": [...]}}`` turned into clear
errors, paging until a short page, and GraphQL errors naming ``Entity.field``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

import misbridge
from misbridge.plugin import (
    AuthenticationError,
    HttpPolicy,
    MisHttpClient,
    PermissionDeniedError,
    Secret,
    SourceError,
    SourceFormatError,
)
from misbridge_arbor.selection import Spec, graphql_query
from misbridge_arbor.settings import ArborConfig

__all__ = ["ArborClient", "arbor_message", "permission_fields"]

MIS = "arbor"
_FIELD = re.compile(r"\b([A-Z][A-Za-z_]+\.[a-z][A-Za-z0-9_]*)\b")
#: A field named in backticks, as Arbor's permission errors write it.
_QUOTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)`")
#: A GraphQL error meaning "the application may not read this": Arbor's documented
#: wording (``You do not have access to `Entity.property`.``, per its developer portal as
#: public integrations quote it) and the older "denied" / "may not" wordings.
_PERMISSION = re.compile(r"you do not have access to|denied|may not", re.IGNORECASE)


def permission_fields(messages: list[str]) -> tuple[list[str], list[str]]:
    """The ``Entity.property`` names that permission errors refuse, in order, and the
    messages that are not permission errors."""
    fields: dict[str, None] = {}
    others: list[str] = []
    for message in messages:
        if not _PERMISSION.search(message):
            others.append(message)
            continue
        named = _QUOTED.findall(message) or _FIELD.findall(message)
        fields.update(dict.fromkeys(named or [" ".join(message.split())[:120]]))
    return list(fields), others


def arbor_message(body: Any) -> str:
    """The first message of Arbor's error body ``{"response": {"code", "reason",
    "errors": [{"exception", "message", "trace"}]}}``; never the trace."""
    try:
        answer = body["response"]
        errors = answer.get("errors") or []
        message = errors[0].get("message") if errors else None
        text = str(message or answer.get("reason") or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return "no Arbor error body"
    # Arbor's own words, kept short and on one line; no trace, no request echo.
    return " ".join(text.split())[:200] or "no Arbor error message"


class ArborClient:
    """One Arbor school (or the partner host), for one extract."""

    def __init__(
        self,
        config: ArborConfig,
        username: Secret,
        api_key: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: HttpPolicy | None = None,
    ) -> None:
        self.config = config
        headers = {"Accept": "application/json", "User-Agent": f"misbridge/{misbridge.__version__}"}
        if config.application_id:
            headers["x-mis-application-id"] = config.application_id
        self.http = MisHttpClient(
            MIS,
            config.base_url,
            headers=headers,
            auth=(username.reveal(), api_key.reveal()),
            transport=transport,
            policy=policy,
        )
        self._cache: dict[str, dict[str, Any]] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    # -- errors ----------------------------------------------------------------------------
    def _translate(self, exc: SourceError, what: str) -> SourceError:
        if isinstance(exc, AuthenticationError):
            hint = (
                " and that the application id matches the approved application"
                if self.config.application_id
                else ""
            )
            return AuthenticationError(
                f"arbor: Arbor refused the application's credentials (HTTP 401 on {what}); "
                f"check the application username and API key{hint}, and that the school "
                "has approved the application in Arbor",
                mis=MIS,
                path=what,
            )
        if isinstance(exc, PermissionDeniedError):
            return PermissionDeniedError(
                f"arbor: the application may not read {what} (HTTP 403); ask the school to "
                "grant it in Arbor's application permissions",
                missing=(what,),
                mis=MIS,
            )
        return exc

    # -- GraphQL ---------------------------------------------------------------------------
    async def graphql(self, query: str) -> dict[str, Any]:
        """The ``data`` of a query; errors naming fields become PermissionDeniedError."""
        try:
            answer = await self.http.post_json("/graphql/query", {"query": query})
        except SourceError as exc:
            raise self._translate(exc, "the GraphQL endpoint") from None
        if not isinstance(answer, Mapping):
            raise SourceFormatError("arbor: the GraphQL answer is not a JSON object", mis=MIS)
        errors = answer.get("errors")
        if errors:
            listed = errors if isinstance(errors, list) else [errors]
            messages = [
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in listed
            ]
            fields, others = permission_fields(messages)
            if fields:
                more = f" (and {len(others)} other error(s): {others[0][:120]})" if others else ""
                raise PermissionDeniedError(
                    "arbor: the application may not read "
                    + ", ".join(fields)
                    + "; ask the school to grant these fields in Arbor's application permissions"
                    + more,
                    missing=fields,
                    mis=MIS,
                )
            raise SourceFormatError(
                "arbor: the GraphQL query was refused: " + "; ".join(messages)[:500], mis=MIS
            )
        data = answer.get("data")
        if not isinstance(data, Mapping):
            raise SourceFormatError('arbor: the GraphQL answer has no "data"', mis=MIS)
        return dict(data)

    async def graphql_pages(
        self, entity: str, spec: Spec, filters: Mapping[str, Any] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of one root entity (``page_num`` is 0-based), until a short page."""
        size = self.config.page_size
        page = 0
        while True:
            args = {"page_size": size, "page_num": page, **(filters or {})}
            data = await self.graphql(graphql_query(entity, spec, args))
            rows = data.get(entity)
            if not isinstance(rows, list):
                raise SourceFormatError(f"arbor: GraphQL {entity} did not answer a list", mis=MIS)
            if rows:
                yield rows
            if len(rows) < size:
                return
            page += 1

    # -- REST ------------------------------------------------------------------------------
    async def rest_get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            status, body = await self.http.get_json_or_error(path, params=params)
        except SourceError as exc:
            raise self._translate(exc, path) from None
        if status >= 400:  # 404 and 422 carry Arbor's error body
            raise SourceFormatError(
                f"arbor: {path} answered HTTP {status}: {arbor_message(body)}",
                mis=MIS,
                status=status,
                path=path,
            )
        return body

    async def rest_listing(
        self, resource: str, filters: Mapping[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of ``{entityType, href, id, displayName}`` stubs, until a short page."""
        size = self.config.rest_page_size
        page = self.config.rest_first_page
        root = _plural_root(resource)
        while True:
            params: dict[str, Any] = {"page-number": page, "page-size": size}
            params |= {f"filters.{k}": v for k, v in (filters or {}).items()}
            body = await self.rest_get(f"/rest-v2/{resource}", params)
            rows = body.get(root) if isinstance(body, Mapping) else None
            if not isinstance(rows, list):
                raise SourceFormatError(f"arbor: /rest-v2/{resource} has no '{root}' list", mis=MIS)
            if rows:
                yield rows
            if len(rows) < size:
                return
            page += 1

    async def rest_object(self, href: str, *, cache: bool = False) -> dict[str, Any]:
        """One object by its href, unwrapped from its singular root key."""
        if cache and href in self._cache:
            return self._cache[href]
        body = await self.rest_get(href)
        if not isinstance(body, Mapping) or len(body) != 1:
            raise SourceFormatError(f"arbor: {href} is not a single object", mis=MIS)
        (value,) = body.values()
        if not isinstance(value, dict):
            raise SourceFormatError(f"arbor: {href} is not an object", mis=MIS)
        if cache:
            self._cache[href] = value
        return value

    async def changes(self, resource: str, from_revision: int) -> list[dict[str, Any]]:
        """The change log of a resource after ``from_revision`` (PHP SDK spelling)."""
        body = await self.rest_get(
            f"/rest-v2/{resource}/changelog", {"from-revision": from_revision}
        )
        changes = body.get("changes") if isinstance(body, Mapping) else None
        if not isinstance(changes, list):
            raise SourceFormatError(f"arbor: the {resource} change log has no list", mis=MIS)
        return changes

    async def photo(self, kind: str, person_id: str) -> tuple[bytes, str | None] | None:
        """A profile picture; None when the person has none (404)."""
        path = f"/rest-v2/profile-picture/{kind}/{person_id}"
        try:
            return await self.http.get_bytes(path, missing_ok=True)
        except SourceError as exc:
            raise self._translate(exc, "profile pictures (/rest-v2/profile-picture)") from None


def _plural_root(resource: str) -> str:
    head, *rest = resource.split("-")
    return head + "".join(part.capitalize() for part in rest)
