"""A stand-in for an Arbor school's API, serving one sample school.

Shipped code: the tests, ``misbridge demo --mis arbor`` and ``bench/bench_arbor.py`` use
it. It speaks HTTP Basic (optionally the common partner host's ``x-mis-application-id``),
the REST grammar (``/rest-v2/<dash-plural>`` reference listings, singular root keys,
``filters.<property>.<operator>``, ``page-number``/``page-size``, the change log under
both parameter spellings the official SDKs use, profile pictures), ``POST /graphql/query``,
Arbor's error body, and throttling with 429 after a configurable number of requests.

What no public source settles is an option here and a plugin setting of the same name
(see :class:`~misbridge_arbor.sim_store.StoreOptions` and the factory). The wire facts
and their sources are listed in ``docs/plugins/arbor.md``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from misbridge.plugin import (
    ASGIApp,
    Dataset,
    Fault,
    FaultInjector,
    HttpSimulator,
    SourceSchool,
)
from misbridge_arbor.sim_render import (
    DEFAULT_GRAPHQL_PAGE_SIZE,
    DENIED_MESSAGE,
    GraphQLFailure,
    execute_graphql,
    href,
    rest_object,
    rest_stub,
    wire_id,
)
from misbridge_arbor.sim_school import build_store
from misbridge_arbor.sim_store import DATASET_ENTITIES, RESOURCES, EntityStore, Ref, StoreOptions

__all__ = ["ArborSimulator", "arbor_error", "simulator"]

DEFAULT_HOST = "https://hollowfield.uk.arbor.sc"
_KIND_BY_RESOURCE = {resource: kind for kind, resource in RESOURCES.items()}
_EXCEPTIONS = {
    401: "Arbor\\Exception\\UnauthorizedException",
    403: "Arbor\\Exception\\PermissionDeniedException",
    404: "Arbor\\Exception\\ResourceNotFoundException",
    405: "Arbor\\Exception\\MethodNotAllowedException",
    422: "Arbor\\Exception\\ValidationException",
    429: "Arbor\\Exception\\TooManyRequestsException",
}
_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
}


def arbor_error(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    trace: str | None = "",
) -> JSONResponse:
    """Arbor's error body: ``{"response": {"code", "reason", "errors": [...]}}``.

    ``trace`` is a string or absent (``None``): the official PHP SDK reads
    ``errors[0].trace`` into a ``?string``, so anything else would break it."""
    error: dict[str, Any] = {
        "exception": _EXCEPTIONS.get(status, "Arbor\\Exception\\Exception"),
        "message": message,
    }
    if trace is not None:
        error["trace"] = trace
    body = {
        "response": {"code": status, "reason": _REASONS.get(status, "Error"), "errors": [error]}
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _root(kind: str) -> str:
    return kind[0].lower() + kind[1:]


def _plural_root(resource: str) -> str:
    head, *rest = resource.split("-")
    return head + "".join(part.capitalize() for part in rest)


class ArborSimulator(HttpSimulator):
    """One simulated Arbor school; see the module docstring.

    Options besides the shared ones: ``throttle_after``, ``throttle_window``,
    ``retry_after``, ``max_page_size``, ``application_id``, ``photo_content_type``,
    ``rest_first_page``, ``hidden_fields`` ("Entity.field" the app may not read),
    ``username``, ``api_key``, ``error_trace`` (the error body's ``trace`` string; None
    leaves it out), ``graphql_default_page_size`` (rows when a query names no
    ``page_size``), ``denied_message`` (how a refused field is worded, ``{field}`` =
    "Entity.field"), and the unpublished facts of :class:`StoreOptions` by name
    (``former_staff`` too).
    """

    in_process_url = DEFAULT_HOST

    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset] = (),
        faults: Sequence[Fault] = (),
        throttle_after: int | None = None,
        throttle_window: float = 60.0,
        retry_after: str | None = None,
        max_page_size: int | None = None,
        application_id: str | None = None,
        photo_content_type: str = "application/octet-stream",
        rest_first_page: int = 1,
        hidden_fields: Collection[str] = (),
        username: str = "misbridge-sim-app",
        api_key: str | None = None,
        store_options: StoreOptions | None = None,
        error_trace: str | None = "",
        graphql_default_page_size: int = DEFAULT_GRAPHQL_PAGE_SIZE,
        denied_message: str = DENIED_MESSAGE,
        **unpublished: Any,
    ) -> None:
        super().__init__(school, latency=latency, deny=deny, faults=faults)
        if store_options is None:
            store_options = StoreOptions(**unpublished)
        elif unpublished:
            raise TypeError(f"unknown simulator options: {sorted(unpublished)}")
        self.store: EntityStore = build_store(school, store_options)
        self.error_trace = error_trace
        self.graphql_default_page_size = graphql_default_page_size
        self.denied_message = denied_message
        self.denied = frozenset(kind for d in self.deny for kind in DATASET_ENTITIES.get(d, ()))
        self.hidden_fields = frozenset(hidden_fields)
        self.throttle_after = throttle_after
        self.throttle_window = throttle_window
        self.retry_after = retry_after
        self.max_page_size = max_page_size
        self.application_id = application_id
        self.photo_content_type = photo_content_type
        self.rest_first_page = rest_first_page
        self.username = username
        self.api_key = api_key or "sim-" + secrets.token_hex(12)
        self.throttled = 0
        self._window: tuple[float, int] = (time.monotonic(), 0)
        self._lock = threading.Lock()
        routes = [
            Route("/graphql/query", self._graphql, methods=["POST"]),
            Route("/rest-v2/profile-picture/{kind}/{id}", self._photo, methods=["GET"]),
            Route("/rest-v2/{resource}/changelog", self._changelog, methods=["GET"]),
            Route("/rest-v2/{resource}/{id}", self._object, methods=["GET"]),
            Route("/rest-v2/{resource}", self._listing, methods=["GET"]),
        ]
        self._inner = Starlette(routes=routes)

    # -- the simulator base's hooks ------------------------------------------------------------
    def asgi(self) -> ASGIApp:
        return self._guard

    @property
    def injector(self) -> FaultInjector:
        return self.app

    def settings(self, base_url: str | None) -> dict[str, str]:
        settings = {
            "base_url": base_url or DEFAULT_HOST,
            "rest_first_page": str(self.rest_first_page),
        }
        if self.application_id:
            settings["application_id"] = self.application_id
        options = self.store.options
        settings |= {
            "eligibility_codes": ",".join(f"{k}={v}" for k, v in options.eligibility_codes.items()),
            "class_subject_path": options.class_subject_path,
            "exam_subject_path": options.exam_subject_path,
            "exam_qualification_path": options.exam_qualification_path,
            "exam_series_path": options.exam_series_path,
        }
        return settings

    def credentials(self) -> dict[str, str]:
        return {"username": self.username, "api_key": self.api_key}

    def wrong_credentials(self) -> Mapping[str, str]:
        return {"username": self.username, "api_key": "wrong-" + self.api_key[::-1]}

    def _error(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        return arbor_error(status, message, headers, trace=self.error_trace)

    # -- authentication, application id, throttling -------------------------------------------
    async def _guard(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refuse(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._inner(scope, receive, send)

    def _refuse(self, headers: Mapping[str, str]) -> Response | None:
        if not self._authorised(headers.get("authorization", "")):
            return self._error(401, "Unauthorized, possibly wrong credentials")
        if self.application_id and headers.get("x-mis-application-id") != self.application_id:
            return self._error(
                401, "The x-mis-application-id header does not name an approved application"
            )
        if self.throttle_after is not None:
            with self._lock:
                started, count = self._window
                now = time.monotonic()
                if now - started >= self.throttle_window:
                    started, count = now, 0
                count += 1
                self._window = (started, count)
            if count > self.throttle_after:
                self.throttled += 1
                extra = {"retry-after": self.retry_after} if self.retry_after else {}
                return self._error(429, "API rate limit exceeded", extra)
        return None

    def _authorised(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(
            password, self.api_key
        )

    # -- REST -------------------------------------------------------------------------------
    def _kind(self, request: Request) -> str | Response:
        resource = request.path_params["resource"]
        kind = _KIND_BY_RESOURCE.get(resource)
        if kind is None:
            return self._error(404, f"Resource type '{resource}' does not exist")
        if kind in self.denied:
            return self._error(403, f"The application may not read {kind} records")
        return kind

    async def _listing(self, request: Request) -> Response:
        kind = self._kind(request)
        if isinstance(kind, Response):
            return kind
        query = request.query_params
        try:
            size = int(query.get("page-size", "100"))
            page = int(query.get("page-number", str(self.rest_first_page))) - self.rest_first_page
        except ValueError:
            return self._error(422, "page-number and page-size must be whole numbers")
        if size < 1 or page < 0:
            return self._error(422, "page-number or page-size is out of range")
        if self.max_page_size is not None and size > self.max_page_size:
            return self._error(422, f"page-size may not exceed {self.max_page_size}")
        rows = self.store.entities.get(kind, {})
        try:
            ids = [i for i, r in rows.items() if self._filtered(kind, r, query)]
        except ValueError as exc:
            return self._error(422, str(exc))
        window = ids[page * size : (page + 1) * size]
        return JSONResponse(
            {_plural_root(RESOURCES[kind]): [rest_stub(self.store, kind, i) for i in window]}
        )

    def _filtered(self, kind: str, record: Mapping[str, Any], query: Any) -> bool:
        for key, wanted in query.multi_items():
            if not key.startswith("filters."):
                continue
            _, prop, op = [*key.split(".", 2), "", ""][:3]
            if prop not in record:
                raise ValueError(f"{kind} has no property '{prop}' to filter on")
            value = record[prop]
            actual = href(value.type, value.id) if isinstance(value, Ref) else value
            text = None if actual is None else str(_iso(actual))
            if wanted == "NULL":
                ok = actual is None if op == "equals" else False
            elif op == "equals":
                ok = text == wanted or (isinstance(value, Ref) and value.id == wanted)
            elif op == "in":
                ok = text in wanted.split(",")
            elif op in ("before", "after", "from", "to"):
                bound = wanted[:10]
                ok = text is not None and (
                    text[:10] < bound if op in ("before", "to") else text[:10] > bound
                )
            else:
                raise ValueError(f"operator '{op}' is not supported")
            if not ok:
                return False
        return True

    async def _object(self, request: Request) -> Response:
        kind = self._kind(request)
        if isinstance(kind, Response):
            return kind
        entity_id = request.path_params["id"]
        if entity_id not in self.store.entities.get(kind, {}):
            return self._error(404, f"{kind} with id {entity_id} was not found")
        return JSONResponse({_root(kind): rest_object(self.store, kind, entity_id)})

    async def _changelog(self, request: Request) -> Response:
        kind = self._kind(request)
        if isinstance(kind, Response):
            return kind
        query = request.query_params
        start = query.get("from-revision", query.get("fromRevision"))
        end = query.get("to-revision", query.get("toRevision"))
        try:
            first = int(start) if start is not None else None
            last = int(end) if end is not None else self.store.revision
        except ValueError:
            return self._error(422, "from-revision and to-revision must be whole numbers")
        if first is None:
            return self._error(422, "from-revision is required")
        changes = []
        for revision, changed_kind, entity_id, change in self.store.changes:
            if changed_kind != kind or not first < revision <= last:
                continue
            exists = entity_id in self.store.entities.get(kind, {})
            changed = (
                rest_object(self.store, kind, entity_id)
                if exists and change != "delete"
                else {"entityType": kind, "href": href(kind, entity_id), "id": wire_id(entity_id)}
            )
            changes.append(
                {
                    "changedObject": changed,
                    "changeType": change,
                    "fromRevision": revision - 1,
                    "toRevision": revision,
                }
            )
        return JSONResponse({"changes": changes})

    async def _photo(self, request: Request) -> Response:
        kind, person = request.path_params["kind"], request.path_params["id"]
        if kind not in ("student", "staff"):
            return self._error(404, f"No profile pictures for '{kind}'")
        if "ProfilePicture" in self.denied:
            return self._error(403, "The application may not read profile pictures")
        data = self.store.photos.get((kind, person))
        if data is None:
            return self._error(404, f"No profile picture for {kind} {person}")
        return Response(data, media_type=self.photo_content_type)

    # -- GraphQL ----------------------------------------------------------------------------
    async def _graphql(self, request: Request) -> Response:
        try:
            body = await request.json()
            query = body["query"]
            if not isinstance(query, str):
                raise TypeError(query)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": [{"message": 'the body must be {"query": "..."}'}]})
        try:
            answer = execute_graphql(
                self.store,
                query,
                hidden=self.hidden_fields,
                denied=self.denied,
                max_page_size=self.max_page_size,
                default_page_size=self.graphql_default_page_size,
                denied_message=self.denied_message,
            )
        except GraphQLFailure as failure:
            return JSONResponse({"errors": failure.errors})
        return JSONResponse(answer)


def simulator(school: SourceSchool, **options: Any) -> ArborSimulator:
    """The simulator, for callers that name the factory (``MisInfo.simulator`` is the
    package's own, which imports this module on first use)."""
    return ArborSimulator(school, **options)
