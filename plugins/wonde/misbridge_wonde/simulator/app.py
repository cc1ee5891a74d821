"""The simulator's HTTP face: Wonde's URLs, auth, envelopes, includes and pagination.

As Wonde documents them (docs.wonde.com/docs/api/sync) and its official clients use them
(wondeltd/php-client, ruby-client, dotnet-client): ``/v1.0/schools[/{id}/...]``; Bearer or
Basic (token as user name, empty password) with the scheme read case-insensitively;
``{"data": ...}`` envelopes with ``meta.pagination{next (absolute), previous, more,
per_page, current_page}``, and no ``meta`` at all for a list of 50 rows or fewer; page
and cursor modes; ``include=`` comma lists with ``{"data": ...}`` wrappers;
``updated_after``/``updated_before`` (a date, or a date and a time); ``counts``;
``deletions`` (filtered by those and by ``type``). What no public source settles comes
from :class:`~misbridge_wonde.simulator.options.SimOptions`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from misbridge.plugin import Dataset
from misbridge_wonde.simulator.render import ENTITIES, Entity, Json
from misbridge_wonde.simulator.schools import school_json

if TYPE_CHECKING:
    from misbridge_wonde.simulator import WondeSimulator

__all__ = ["DENIED_TABLES", "build_app"]

#: What a denied dataset takes away from the simulated account (its object scopes).
DENIED_TABLES: dict[Dataset, frozenset[str]] = {
    Dataset.YEARS: frozenset({"groups"}),
    Dataset.STAFF: frozenset({"employees"}),
    Dataset.STUDENTS: frozenset({"students"}),
    Dataset.GROUPS: frozenset({"groups", "classes"}),
    Dataset.PHOTOS: frozenset({"photos"}),
    Dataset.EXAM_RESULTS: frozenset({"assessment"}),
}

_SCHOOL_LISTS = ("pending", "audited", "declined", "revoked", "all")


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _include_tree(request: Request) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for raw in request.query_params.getlist("include"):
        for item in raw.split(","):
            node = tree
            for part in filter(None, item.strip().split(".")):
                node = node.setdefault(part, {})
    return tree


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value == token
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        return bool(sep) and user == token and password == ""
    return False


class _Handler:
    def __init__(self, sim: WondeSimulator) -> None:
        self.sim = sim
        self.options = sim.options

    def denied(self, table: str) -> bool:
        return any(table in DENIED_TABLES[d] for d in self.sim.deny)

    def hidden(self, table: str, name: str) -> bool:
        return f"{table}.{name}" in self.options.hidden

    # -- objects ---------------------------------------------------------------------------
    def render(self, table: str, entity: Entity, tree: Mapping[str, Any]) -> Json:
        obj = dict(entity.base)
        if self.options.hidden:
            for name in obj:
                if self.hidden(table, name):
                    obj[name] = None
        relations = ENTITIES[table]
        for name, sub in tree.items():
            relation = relations.get(name)
            if relation is None:
                continue  # an include this object does not have is ignored
            target, many = relation
            if self.hidden(table, name) or self.denied(target):
                obj[name] = None
            elif many:
                rows = self.sim.rendered.tables[target]
                obj[name] = {
                    "data": [
                        self.render(target, rows[i], sub)
                        for i in entity.relations.get(name, ())
                        if i not in self.sim.deleted[target]
                    ]
                }
            else:
                obj[name] = {"data": self.single(target, entity.single.get(name), sub)}
        return obj

    def single(self, target: str, key: str | None, tree: Mapping[str, Any]) -> Json | None:
        if key is None:
            return None
        details = self.sim.rendered.details.get(target)
        if details is not None:
            return details.get(key)
        entity = self.sim.rendered.tables[target].get(key)
        return None if entity is None else self.render(target, entity, tree)

    # -- lists -----------------------------------------------------------------------------
    def page(self, request: Request, rows: list[Any], table: str) -> Response:
        """One page of ``rows`` (already filtered, in a stable order) with Wonde's meta."""
        query = dict(request.query_params)
        per_page = self.options.default_per_page
        raw = query.get("per_page")
        if raw not in (None, ""):
            if not raw.isdigit() or int(raw) < 1:
                return _json(
                    {
                        "message": "The given data was invalid.",
                        "errors": {"per_page": ["The per page must be a positive integer."]},
                    },
                    422,
                )
            per_page = min(int(raw), self.options.max_per_page)
        cursor = query.get("cursor")
        if cursor is not None:
            return self._cursor_page(request, rows, table, per_page, cursor, query)
        raw_page = query.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
        if page == 1 and self.unpaginated(rows, per_page):
            return self.listing(rows, table, request, None)
        start = (page - 1) * per_page
        chunk = rows[start : start + per_page]
        more = start + per_page < len(rows)

        def link(n: int) -> str:
            return str(request.url.replace(query=urlencode({**query, "page": str(n)})))

        meta = {
            "next": link(page + 1) if more else None,
            "previous": link(page - 1) if page > 1 else None,
            "more": more,
            "per_page": self.options.per_page(per_page),
            "current_page": page,
        }
        return self.listing(chunk, table, request, meta)

    def unpaginated(self, rows: list[Any], per_page: int) -> bool:
        """A small list that fits on the page asked for comes whole, with no ``meta``."""
        limit = self.options.unpaginated_up_to
        return limit is not None and len(rows) <= min(limit, per_page)

    def _cursor_page(
        self,
        request: Request,
        rows: list[Any],
        table: str,
        per_page: int,
        cursor: str,
        query: dict[str, str],
    ) -> Response:
        # Wonde-style cursors are base64 of {"mis_<table>.id": <last id seen>}.
        key = f"mis_{table}.id"
        after = 0
        if cursor == "true" and self.unpaginated(rows, per_page):
            return self.listing(rows, table, request, None)
        if cursor != "true":
            try:
                padded = cursor + "=" * (-len(cursor) % 4)
                after = int(json.loads(base64.urlsafe_b64decode(padded))[key])
            except (ValueError, KeyError, TypeError, binascii.Error):
                return _json(
                    {
                        "message": "The given data was invalid.",
                        "errors": {"cursor": ["The cursor is invalid."]},
                    },
                    422,
                )
        remaining = [r for r in rows if self._seq(r) > after]
        chunk = remaining[:per_page]
        more = len(remaining) > per_page
        next_url = None
        if more:
            token = base64.urlsafe_b64encode(
                json.dumps({key: self._seq(chunk[-1])}, separators=(",", ":")).encode()
            )
            next_query = {**query, "cursor": token.decode().rstrip("=")}
            next_url = str(request.url.replace(query=urlencode(next_query)))
        meta = {
            "next": next_url,
            "previous": None,
            "more": more,
            "per_page": None,  # null in cursor mode (a public model of live answers)
            "current_page": None,
        }
        return self.listing(chunk, table, request, meta)

    @staticmethod
    def _seq(row: Any) -> int:
        return int(row["seq"]) if isinstance(row, dict) else int(row.seq)

    def listing(
        self, chunk: list[Any], table: str, request: Request, meta: Json | None
    ) -> Response:
        """One list answer; ``meta`` None sends none (a list small enough for one page)."""
        envelope = {} if meta is None else {"meta": {"pagination": meta}}
        if table == "deletions":
            return _json({"data": [row.as_json() for row in chunk], **envelope})
        if table == "schools":
            data = [{k: v for k, v in row.items() if k != "seq"} for row in chunk]
            return _json({"data": data, **envelope})
        tree = _include_tree(request)
        key = json.dumps(tree, sort_keys=True)
        items = b",".join(self.encoded(table, entity, tree, key) for entity in chunk)
        tail = b""
        if meta is not None:
            tail = b',"meta":' + json.dumps({"pagination": meta}, separators=(",", ":")).encode()
        return Response(b'{"data":[' + items + b"]" + tail + b"}", media_type="application/json")

    def encoded(self, table: str, entity: Entity, tree: Mapping[str, Any], key: str) -> bytes:
        """One object as JSON, rendered once per include list. The benchmarks measure the
        plugin, so the simulator must not spend the shared CPU re-rendering what it
        already sent (the cache is cleared whenever the school changes)."""
        cache_key = (table, entity.id, key)
        cached = self.sim.cache.get(cache_key)
        if cached is None:
            obj = self.render(table, entity, tree)
            cached = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
            self.sim.cache[cache_key] = cached
        return cached

    def moment(self, request: Request, name: str) -> datetime | Response | None:
        """``updated_after``/``updated_before``: ``Y-m-d H:i:s`` (the PHP client's readme)
        or a date alone, meaning its midnight."""
        raw = request.query_params.get(name)
        if raw is None:
            return None
        for form in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(raw.strip(), form)
            except ValueError:
                continue
        label = name.replace("_", " ")
        return _json(
            {
                "message": "The given data was invalid.",
                "errors": {name: [f"The {label} is not a valid date."]},
            },
            422,
        )

    # -- endpoints ---------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p]
        if not parts or parts[0] != "v1.0":
            return _error(404, "Not found.")
        if not _authorised(request, self.sim.token):
            return _error(401, "Unauthenticated.")
        parts = parts[1:]
        if parts == ["schools"]:
            return self.page(request, self.sim.approved_schools(request), "schools")
        if len(parts) == 2 and parts[0] == "schools" and parts[1] in _SCHOOL_LISTS:
            return self.page(request, [], "schools")
        if len(parts) < 2 or parts[0] != "schools" or parts[1] != self.sim.school.mis_id:
            return _error(404, "School not found or not approved for this application.")
        if len(parts) == 2:
            return _json({"data": school_json(self.sim.school, self.sim.domain_for(request))})
        if not self.sim.right_region(request):
            # "Using the wrong domain for a school will return no data" (the documentation's
            # "Regional Domains").
            return _json({"data": []})
        return self.school_data(request, parts[2:])

    def school_data(self, request: Request, parts: list[str]) -> Response:
        table = parts[0]
        if table == "counts" and len(parts) == 1:
            return self.counts(request)
        if self.denied(table):
            return _error(
                self.options.deny_status,
                f"The application does not have access to {table} for this school.",
            )
        since = self.moment(request, "updated_after")
        if isinstance(since, Response):
            return since
        until = self.moment(request, "updated_before")
        if isinstance(until, Response):
            return until
        if table == "deletions" and len(parts) == 1:
            kind = request.query_params.get("type")
            rows = [
                d
                for d in self.sim.deletions
                if (since is None or d.changed > since)
                and (until is None or d.changed < until)
                and (kind is None or d.type == kind)
            ]
            return self.page(request, list(rows), "deletions")
        if table not in ENTITIES:
            return _error(404, "Not found.")
        rows_by_id = self.sim.rendered.tables[table]
        if len(parts) == 2:
            entity = rows_by_id.get(parts[1])
            if entity is None or entity.id in self.sim.deleted[table]:
                return _error(404, "Not found.")
            return _json({"data": self.render(table, entity, _include_tree(request))})
        if len(parts) != 1:
            return _error(404, "Not found.")
        live: list[Any] = [
            e
            for e in rows_by_id.values()
            if e.id not in self.sim.deleted[table]
            and (since is None or e.updated > since)
            and (until is None or e.updated < until)
        ]
        return self.page(request, live, table)

    def counts(self, request: Request) -> Response:
        data: Json = {}
        for name in _include_tree(request):
            table = self.sim.rendered.tables.get(name)
            if table is None:
                continue
            if self.denied(name):
                data[name] = None
                continue
            live = len(table) - len(self.sim.deleted[name])
            data[name] = {"data": {"count": live}}
        return _json({"data": data})


def build_app(sim: WondeSimulator) -> Starlette:
    handler = _Handler(sim)
    return Starlette(routes=[Route("/{path:path}", handler.handle, methods=["GET"])])
