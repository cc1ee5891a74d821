"""Reading a Wonde list: envelopes, ``meta.pagination`` and the three paging modes.

- ``follow-next``: what the official clients do: one page, then its ``next``, one by one.
- ``cursor``: the same with ``cursor=true``: stable while the MIS changes mid-read.
- ``parallel``: knowing the count (``/counts``), ask for every ``page=N`` at once
  (bounded by the HTTP client's pool) and yield pages in order. Offset pages shift if
  the school gains or loses a record mid-read, so the result is checked: records are
  de-duplicated by id, a last page that still says ``more`` is followed, and if fewer
  records arrived than were counted the list is read again in cursor mode and only
  the missing records are yielded. Nothing is silently dropped.

Every page is checked: a body without a ``data`` list is an error (never an empty
school), ``more: true`` without ``next`` is an error, a ``next`` on another host (or
scheme) is refused before the token goes there, and a ``next`` seen before is a loop.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import structlog

from misbridge.plugin import MisHttpClient, SourceFormatError

__all__ = ["Lister", "Page", "Tally", "parse_page"]

log = structlog.get_logger()

Page = tuple[list[Mapping[str, Any]], Mapping[str, Any]]


class Tally:
    """How many distinct records one list gave, and the total its pages claimed, if any
    (``meta.pagination.total`` is not documented by Wonde, but is used where sent)."""

    __slots__ = ("read", "total")

    def __init__(self) -> None:
        self.read = 0
        self.total: int | None = None

    def note(self, pagination: Mapping[str, Any]) -> None:
        total = pagination.get("total")
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            self.total = total


def parse_page(body: Any, url: httpx.URL) -> Page:
    """``(records, pagination)`` of one list answer, or a clear error."""
    path = url.path
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        keys = ", ".join(sorted(map(str, body))) if isinstance(body, Mapping) else "none"
        raise SourceFormatError(
            f"wonde: {path} answered without a 'data' list (keys: {keys}); nothing from it was "
            "used. Wonde may be failing or the answer was altered; try again later",
            mis="wonde",
            path=path,
        )
    records = body["data"]
    if not all(isinstance(record, Mapping) for record in records):
        raise SourceFormatError(
            f"wonde: {path} answered a 'data' list holding something other than records; "
            "nothing from it was used",
            mis="wonde",
            path=path,
        )
    meta = body.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, Mapping) else None
    return records, pagination if isinstance(pagination, Mapping) else {}


def _next_url(pagination: Mapping[str, Any], url: httpx.URL, seen: set[str]) -> httpx.URL | None:
    more = pagination.get("more")
    nxt = pagination.get("next")
    if not nxt:
        if more is True:
            raise SourceFormatError(
                f"wonde: {url.path} says there are more records but gives no 'next' link; "
                "the list cannot be read completely, so it is not used",
                mis="wonde",
                path=url.path,
            )
        return None
    if not isinstance(nxt, str):
        raise SourceFormatError(f"wonde: {url.path} gave a 'next' link that is not a URL")
    target = url.join(nxt)
    if target.host != url.host or target.scheme != url.scheme or target.port != url.port:
        raise SourceFormatError(
            f"wonde: refused to follow a 'next' link from {url.host} to "
            f"{target.scheme}://{target.host}; the API token is only sent to the school's "
            "Wonde host",
            mis="wonde",
            host=target.host,
        )
    if str(target) in seen:
        raise SourceFormatError(
            f"wonde: {url.path} links back to a page already read; stopped to avoid a loop",
            mis="wonde",
            path=url.path,
        )
    seen.add(str(target))
    return target


def _per_page(pagination: Mapping[str, Any]) -> int | None:
    raw = pagination.get("per_page")  # a string on the wire ("200"), tolerated as a number
    try:
        value = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return value if value and value > 0 else None


class Lister:
    """Reads the lists of one school through one :class:`MisHttpClient`."""

    def __init__(self, http: MisHttpClient, base: str, per_page: int | None) -> None:
        self.http = http
        self.base = base.rstrip("/") + "/"
        self.per_page = per_page

    def url(self, path: str) -> httpx.URL:
        return self.http.check_url(self.base + path.lstrip("/"))

    def params(self, include: Sequence[str], extra: Mapping[str, str]) -> dict[str, str]:
        params = dict(extra)
        if include:
            params["include"] = ",".join(include)  # the comma form, as the official clients send it
        if self.per_page is not None:
            params["per_page"] = str(self.per_page)
        return params

    async def get_page(
        self,
        url: httpx.URL,
        params: Mapping[str, str] | None = None,
        tally: Tally | None = None,
    ) -> Page:
        body = await self.http.get_json(url, params=params)
        request_url = url.copy_merge_params(params) if params else url
        page = parse_page(body, request_url)
        if tally is not None:
            tally.note(page[1])
        return page

    async def follow(
        self, url: httpx.URL, params: Mapping[str, str] | None, tally: Tally | None = None
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """One page after another along ``next`` (follow-next and cursor modes)."""
        seen: set[str] = set()
        current: httpx.URL | None = url.copy_merge_params(params) if params else url
        while current is not None:
            records, pagination = await self.get_page(current, tally=tally)
            yield records
            current = _next_url(pagination, current, seen)

    async def pages(
        self,
        path: str,
        *,
        include: Sequence[str] = (),
        extra: Mapping[str, str] | None = None,
        mode: str = "follow-next",
        count: int | None = None,
        tally: Tally | None = None,
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Every page of one list, as the mode says (see the module docstring)."""
        url = self.url(path)
        params = self.params(include, extra or {})
        if mode == "parallel" and count is not None:
            async for page in self._parallel(url, params, count, tally):
                yield page
            return
        if mode in ("cursor", "parallel"):
            params["cursor"] = "true"
        async for page in self.follow(url, params, tally):
            yield page

    async def _parallel(
        self, url: httpx.URL, params: dict[str, str], count: int, tally: Tally | None
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        per_page = self.per_page or 50
        planned = max(1, math.ceil(count / per_page))
        window = max(2, 2 * self.http.policy.concurrency)
        tasks: dict[int, asyncio.Task[Page]] = {}
        started = 0

        def start_upto(last: int) -> None:
            nonlocal started
            while started < min(planned, last):
                started += 1
                query = {**params, "page": str(started)}
                tasks[started] = asyncio.create_task(self.get_page(url, query, tally))

        try:
            number = 1
            pagination: Mapping[str, Any] = {}
            while number <= planned:
                start_upto(number + window - 1)
                records, pagination = await tasks.pop(number)
                if number == 1:
                    # The server may cap the page size below what we asked for.
                    served = _per_page(pagination)
                    if served and served != per_page:
                        per_page, planned = served, max(1, math.ceil(count / served))
                yield records
                number += 1
            if pagination.get("more"):
                # The school gained records since the count: read on along next.
                last = url.copy_merge_params({**params, "page": str(planned)})
                nxt = _next_url(pagination, last, set())
                if nxt is not None:
                    async for page in self.follow(nxt, None, tally):
                        yield page
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def batches(
        self,
        path: str,
        *,
        include: Sequence[str] = (),
        extra: Mapping[str, str] | None = None,
        mode: str = "follow-next",
        count: int | None = None,
        tally: Tally | None = None,
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Every record of one list, once each, a page at a time; in parallel mode a read
        short of ``count`` is read again by cursor (see the module docstring). ``tally``
        counts the distinct records given, for the caller's check against the total."""
        seen: set[str] = set()
        tally = tally if tally is not None else Tally()

        def fresh(page: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
            kept = []
            for record in page:
                key = record.get("id")
                if key is None or key == "":
                    kept.append(record)  # no id: passed on for the normaliser to report
                    tally.read += 1
                elif (key := str(key)) not in seen:
                    seen.add(key)
                    kept.append(record)
                    tally.read += 1
            return kept

        async for page in self.pages(
            path, include=include, extra=extra, mode=mode, count=count, tally=tally
        ):
            yield fresh(page)
        if mode == "parallel" and count is not None and len(seen) < count:
            log.info("wonde.reconcile", path=path, counted=count, read=len(seen))
            async for page in self.pages(
                path, include=include, extra=extra, mode="cursor", tally=tally
            ):
                yield fresh(page)

    async def records(self, path: str, **options: Any) -> AsyncIterator[Mapping[str, Any]]:
        async for batch in self.batches(path, **options):
            for record in batch:
                yield record
