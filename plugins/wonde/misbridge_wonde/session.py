"""An authenticated Wonde session for one school: token, regional host, lists, counts.

The token goes in a Bearer header, and only to hosts we trust: the configured base URL's
host and Wonde's own API hosts (:data:`~misbridge_wonde.schema.WONDE_HOSTS`). The school's
``region.domain`` comes from Wonde's answer, so it is server-controlled input deciding
where the token is sent: anything outside that list is refused before a byte goes there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from misbridge.plugin import (
    ConfigurationError,
    Dataset,
    ExtractContext,
    HttpPolicy,
    MisHttpClient,
    PermissionCheck,
    PermissionDeniedError,
    Secret,
    Session,
    SourceError,
    SourceFormatError,
)
from misbridge_wonde.mapping import is_restored
from misbridge_wonde.paging import Lister, Tally
from misbridge_wonde.schema import DEFAULT_BASE_URL, WONDE_HOSTS
from misbridge_wonde.settings import DATASETS, WondeSettings

__all__ = ["COUNTED", "WondeSession", "list_schools", "open_session"]

log = structlog.get_logger()

#: The lists whose size ``/counts`` gives, asked for together in one request.
COUNTED = ("students", "employees", "groups", "classes")

#: How far before the extract's start the next incremental extract looks back, so that a
#: change made while this extract ran (or a small clock difference) is never missed.
OVERLAP = timedelta(minutes=5)

#: Wonde's deletion ``type`` -> the model record it names (and, for groups, the kind).
#: ``student``, ``employee`` and ``class`` are the types public live-data clients filter
#: ``/deletions`` by (dataconversion-ie/WondePOC ``Services/WondeApiClient.cs``).
DELETED_TYPES: dict[str, tuple[Dataset, str, str | None]] = {
    "student": (Dataset.STUDENTS, "Student", None),
    "employee": (Dataset.STAFF, "StaffMember", None),
    "group": (Dataset.GROUPS, "Group", None),
    "class": (Dataset.GROUPS, "Group", "class"),
}


def _client(
    base_url: str, token: Secret, context: ExtractContext, allowed: frozenset[str] | None = None
) -> MisHttpClient:
    return MisHttpClient(
        "wonde",
        base_url,
        headers={
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/json",
            "User-Agent": "misbridge-wonde",
        },
        transport=context.transport,
        policy=_policy(context),
        allowed_hosts=allowed,
    )


def _policy(context: ExtractContext) -> HttpPolicy:
    try:
        return HttpPolicy.from_context(context)
    except (TypeError, ValueError):
        raise ConfigurationError(
            "wonde: an http_* setting is not a number (http_concurrency, http_attempts, "
            "http_max_retry_after, http_request_deadline ...)",
            mis="wonde",
        ) from None


def regional_base(domain: Any, base: httpx.URL) -> str | None:
    """The API base URL for a school's ``region.domain``; None means "the configured one".

    :raises SourceFormatError: the domain is not a Wonde API host.
    """
    if domain in (None, ""):
        return None
    if not isinstance(domain, str):
        raise SourceFormatError("wonde: the school's region domain is not a host name")
    host = domain.strip().lower()
    configured = base.host + (f":{base.port}" if base.port else "")
    if host in (base.host, configured):
        return None
    if host in WONDE_HOSTS:
        return f"https://{host}/v1.0/"
    raise SourceFormatError(
        f"wonde: the school's region domain {host!r} is not a Wonde API host; the token was "
        "not sent there. If Wonde has opened a new region, set base_url to its API address",
        mis="wonde",
        host=host,
    )


class WondeSession(Session):
    """What ``authenticate`` opens; each dataset reads through it."""

    def __init__(
        self,
        settings: WondeSettings,
        context: ExtractContext,
        clients: Sequence[MisHttpClient],
        lister: Lister,
        school: Mapping[str, Any],
    ) -> None:
        self.settings = settings
        self.context = context
        self.clients = tuple(clients)
        self.lister = lister
        self.school = school
        self.started = datetime.now(UTC)
        self._counts: asyncio.Task[dict[str, int | None]] | None = None

    @property
    def requests_sent(self) -> int:
        return sum(c.requests_sent for c in self.clients)

    def since(self, dataset: Dataset) -> datetime | None:
        """Only changes after this (``--since``, else, with ``incremental=auto``, where
        the last read of the dataset that a sync used ended)."""
        if self.context.since is not None:
            return self.context.since
        if not self.settings.incremental:
            return None
        mark = self.context.checkpoint(dataset)
        return mark.at if mark is not None else None

    async def counts(self) -> dict[str, int | None]:
        """Every counted list's size, from one shared ``/counts`` request."""
        if self._counts is None:
            self._counts = asyncio.ensure_future(self._read_counts())
        return await asyncio.shield(self._counts)

    async def report_total(self, path: str, dataset: Dataset) -> None:
        """Give the progress display a list's size (a full read asks for the counts
        anyway, to check what it read against them)."""
        if self.since(dataset) is None:
            total = (await self.counts()).get(path)
            if total is not None:
                self.context.report_total(dataset, total)

    async def recount(self, path: str) -> int | None:
        """The list's count asked for again: a school that gained or lost a pupil while
        it was read has a new count, which the read must then match."""
        return (await self._read_counts((path,))).get(path)

    async def _read_counts(self, names: Sequence[str] = COUNTED) -> dict[str, int | None]:
        url = self.lister.url(f"schools/{self.settings.school_id}/counts")
        try:
            body = await self.lister.http.get_json(url, params={"include": ",".join(names)})
        except SourceError as exc:
            # Without counts the lists are still read, one page after another.
            log.info("wonde.counts_unavailable", error=type(exc).__name__)
            return dict.fromkeys(names)
        data = body.get("data") if isinstance(body, Mapping) else None
        found: dict[str, int | None] = {}
        for name in names:
            entry = data.get(name) if isinstance(data, Mapping) else None
            inner = entry.get("data") if isinstance(entry, Mapping) else None
            count = inner.get("count") if isinstance(inner, Mapping) else None
            found[name] = count if isinstance(count, int) and count >= 0 else None
        return found

    async def records(
        self, path: str, include: Sequence[str], dataset: Dataset
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Every record of a school list, a page at a time, in the configured paging mode,
        then checked against Wonde's own count of the list (``/counts``): a read shorter
        than the count makes the dataset partial, never complete."""
        since = self.since(dataset)
        extra: dict[str, str] = {}
        mode = self.settings.paging
        count: int | None = None
        report = self.context.read(dataset)
        if since is not None:
            report.delta()
            extra["updated_after"] = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            # Counts are of the whole list, not of the changes: read changes by cursor.
            mode = "cursor" if mode == "parallel" else mode
        elif path in COUNTED:
            count = (await self.counts()).get(path)
        tally = Tally()
        try:
            async for batch in self.lister.batches(
                f"schools/{self.settings.school_id}/{path}",
                include=include,
                extra=extra,
                mode=mode,
                count=count if mode == "parallel" else None,
                tally=tally,
            ):
                yield batch
        except PermissionDeniedError:
            raise PermissionDeniedError(
                f"wonde: the school has not granted this application the '{path}' scope, "
                f"which the {dataset.value} dataset needs; ask the school to approve it in "
                "the Wonde portal, or leave the dataset out",
                missing=(path,),
                mis="wonde",
                dataset=dataset.value,
            ) from None
        expected = tally.total if since is not None or count is None else count
        if since is None and count is not None and tally.read != count:
            expected = await self.recount(path)
        if expected is None:
            report.uncounted(path, read=tally.read)
        else:
            report.counted(path, read=tally.read, expected=expected)

    async def deleted(self, dataset: Dataset) -> list[Mapping[str, Any]]:
        """The deletions of ``dataset``'s records since its delta read began, each type
        asked for with Wonde's ``type`` filter; a deletion since undone (``restored_at``)
        is not one any more: the record is back, and its change is in the delta."""
        since = self.since(dataset)
        if since is None:
            return []
        kinds = [kind for kind, (owner, _, _) in DELETED_TYPES.items() if owner is dataset]
        found = await asyncio.gather(*(self._deletions_of(kind, since) for kind in kinds))
        rows = [row for part in found for row in part]
        kept = [row for row in rows if not is_restored(row)]
        if len(kept) < len(rows):
            log.info("wonde.deletions_restored", dataset=dataset.value, count=len(rows) - len(kept))
        return kept

    async def _deletions_of(self, kind: str, since: datetime) -> list[Mapping[str, Any]]:
        # The filter is Wonde's; the type is checked here too, so that a server that
        # ignored it could not make a pupil's deletion disable a staff member.
        return [
            row
            async for batch in self.deletions(since, kind=kind)
            for row in batch
            if str(row.get("type")) == kind
        ]

    async def deletions(
        self, since: datetime | None, *, kind: str | None = None, until: datetime | None = None
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """Records Wonde reports deleted (``/deletions``): changed after ``since`` and
        before ``until`` if given, of one ``kind`` (``student``, ``class``...) if given."""
        extra: dict[str, str] = {}
        for name, moment in (("updated_after", since), ("updated_before", until)):
            if moment is not None:
                moment = moment.astimezone(UTC) if moment.tzinfo else moment
                extra[name] = moment.strftime("%Y-%m-%d %H:%M:%S")
        if kind is not None:
            extra["type"] = kind
        # Pages, not de-duplicated batches: one record deleted, restored and deleted
        # again has two rows under one id, and the later one must not be dropped.
        async for page in self.lister.pages(
            f"schools/{self.settings.school_id}/deletions", extra=extra, mode="follow-next"
        ):
            yield page

    def tracked(self, dataset: Dataset, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """``stream``; once it was read to its end, with ``incremental=auto``, the
        checkpoint the next read of the dataset starts from (the core keeps it only
        if this read is used)."""
        if not self.settings.incremental:
            return stream  # nothing to do at its end: no generator between (per record)
        return self._advancing(dataset, stream)

    async def _advancing(self, dataset: Dataset, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            yield item
        self.context.read(dataset).advance(self.started - OVERLAP)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    # -- the Session API: what the hooks call ------------------------------------------------
    @classmethod
    async def open(cls, context: ExtractContext) -> WondeSession:
        return await open_session(context)

    async def check(self, context: ExtractContext) -> Sequence[PermissionCheck]:
        from misbridge_wonde.permissions import check

        return await check(self, DATASETS)

    def years(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_wonde import extract

        return self.tracked(Dataset.YEARS, extract.years(self))

    def staff(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_wonde import extract

        return self.tracked(Dataset.STAFF, extract.staff(self))

    def students(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_wonde import extract

        return self.tracked(Dataset.STUDENTS, extract.students(self))

    def groups(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_wonde import extract

        return self.tracked(Dataset.GROUPS, extract.groups(self))

    def photos(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_wonde import extract

        return self.tracked(Dataset.PHOTOS, extract.photos(self))


async def open_session(context: ExtractContext) -> WondeSession:
    """Check the token, find the school and its regional host (one request)."""
    settings = WondeSettings.from_context(context)
    token = context.credential("token")
    base = _client(settings.base_url, token, context)
    clients = [base]
    try:
        school_url = base.check_url(f"schools/{settings.school_id}")
        try:
            body = await base.get_json(school_url)
        except SourceFormatError as exc:
            if exc.context.get("status") == 404:
                raise ConfigurationError(
                    f"wonde: school {settings.school_id} is unknown or has not approved this "
                    "application; 'misbridge wonde schools' lists the schools that have",
                    mis="wonde",
                    setting="school_id",
                ) from None
            raise
        school = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(school, Mapping):
            raise SourceFormatError(
                f"wonde: the school record for {settings.school_id} has no 'data' object",
                mis="wonde",
            )
        region = school.get("region")
        domain = region.get("domain") if isinstance(region, Mapping) else None
        regional = regional_base(domain, httpx.URL(settings.base_url))
        http = base
        if regional is not None:
            http = _client(regional, token, context)
            clients.append(http)
        lister = Lister(http, str(http.check_url("")), settings.per_page)
        return WondeSession(settings, context, clients, lister, school)
    except BaseException:
        for client in clients:
            await client.aclose()
        raise


async def list_schools(context: ExtractContext) -> list[Mapping[str, Any]]:
    """The schools that have approved this token's application (``/schools``)."""
    base_url = context.setting("base_url") or DEFAULT_BASE_URL
    client = _client(base_url, context.credential("token"), context)
    try:
        lister = Lister(client, str(client.check_url("")), 200)
        return [s async for s in lister.records("schools")]
    finally:
        await client.aclose()
