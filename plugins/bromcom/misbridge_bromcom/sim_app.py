"""The simulator's web layer: routes, authentication, filtering, paging and errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import defusedxml.ElementTree as SafeET
from attrs import define, field, frozen
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from misbridge_bromcom.schema import GROUP_TYPES, Mode, Vocabulary
from misbridge_bromcom.sim_data import Row
from misbridge_bromcom.sim_filter import FilterError, compile_filter, plain_in_list
from misbridge_bromcom.sim_wire import dataset_xml, json_value, soap_envelope, soap_fault

__all__ = ["PHOTO_PATH", "SOAP_PATH", "SimulatorApp", "Table", "Tables"]

SOAP_PATH = "/Nucleus/WebServices/ThirdParty/TPReadonlyDataService.asmx"
PHOTO_PATH = "/Nucleus/Framework/Components/Controls/ImageDisplay.ashx"
_TEMPURI = "{http://tempuri.org/}"
_PAGE = re.compile(r"(?:\{|%7B)page(?::|%3A)(\d+)(?:\}|%7D)$", re.IGNORECASE)


@frozen
class Table:
    """One entity in one mode: wire rows for output, lower-cased rows for filtering."""

    key: str
    entity: str
    columns: tuple[str, ...]
    lowered: frozenset[str]
    filter_rows: tuple[Mapping[str, Any], ...]
    out_rows: tuple[Mapping[str, Any], ...]
    json_rows: tuple[bytes, ...]

    @classmethod
    def build(cls, key: str, rows: Sequence[Row], vocab: Vocabulary, pad: bool = True) -> Table:
        """Rows renamed to ``vocab``'s wire names (JSON pre-encoded for the Partner API).

        With ``pad``, text goes out padded with trailing spaces to its column's width, as
        Bromcom's fixed-width columns send it (public clients trim every string:
        bromcom-python-helpers' ``_clean()``, bromcom-essentials-dotnet's
        ``CleanString``). Filters compare the unpadded values, as SQL Server's ``=``
        ignores trailing spaces."""
        names = {k: v for k, v in vocab.fields(key).items() if v}
        kinds = {kind: vocab.group_type(kind) for kind in GROUP_TYPES}
        out: list[dict[str, Any]] = []
        for row in rows:
            wire = {names[k]: row.get(k) for k in names}
            if key == "collections":
                kind = row.get("type")
                wire[names["type"]] = kinds.get(kind, kind) if isinstance(kind, str) else kind
            out.append(wire)
        columns = tuple(names.values())
        sent = _padded(out, columns) if pad else out
        return cls(
            key=key,
            entity=vocab.entity(key),
            columns=columns,
            lowered=frozenset(c.lower() for c in columns),
            filter_rows=tuple({k.lower(): v for k, v in r.items()} for r in out),
            out_rows=tuple(sent),
            json_rows=tuple(
                json.dumps({k: json_value(v) for k, v in r.items()}).encode() for r in sent
            )
            if vocab.mode is Mode.PARTNER
            else (),
        )


def _padded(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Every non-empty text value right-padded with spaces past its column's widest value."""
    widths = {
        c: max((len(v) for r in rows if isinstance(v := r.get(c), str)), default=0) + 2
        for c in columns
    }
    return [
        {k: v.ljust(widths[k]) if isinstance(v, str) and v else v for k, v in r.items()}
        for r in rows
    ]


@define
class Tables:
    """Each mode's tables, built on first use (a simulator usually serves one mode)."""

    rows: Mapping[str, Sequence[Row]]
    vocab: Mapping[Mode, Vocabulary]
    pad: bool = True
    _built: dict[tuple[Mode, str], Table] = field(factory=dict)

    def get(self, mode: Mode, key: str) -> Table:
        table = self._built.get((mode, key))
        if table is None:
            table = Table.build(key, self.rows[key], self.vocab[mode], self.pad)
            self._built[(mode, key)] = table
        return table

    def named(self, mode: Mode, name: str) -> Table | None:
        """The table an entity name means (case-insensitive, as IIS is), if served."""
        vocab = self.vocab[mode]
        for key in self.rows:
            if vocab.serves(key) and vocab.entity(key).lower() == name.lower():
                return self.get(mode, key)
        return None

    def entities(self, mode: Mode) -> list[tuple[str, str]]:
        """``(key, entity name)`` of every entity served in ``mode``."""
        vocab = self.vocab[mode]
        return [(k, vocab.entity(k)) for k in self.rows if vocab.serves(k)]


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status, media_type="application/json")


def _failure(status: int, message: str) -> Response:
    return _json(status, {"success": False, "data": None, "message": message})


def _query(raw: str) -> tuple[dict[str, str], int]:
    """Query parameters, and the page marker appended (unencoded) after the filter."""
    params: dict[str, str] = {}
    page = 0
    for part in raw.split("&"):
        name, _, value = part.partition("=")
        if name.lower() == "entityfilter":
            match = _PAGE.search(value)
            if match:
                page = int(match.group(1))
                value = value[: match.start()]
        params[unquote(name).lower()] = unquote(value)
    return params, page


@define
class SimulatorApp:
    tables: Tables
    images: Mapping[str, tuple[bytes, str]]
    school_id: int
    denied: frozenset[str]
    page_size: int
    max_terms: Mapping[Mode, int | None]
    application: tuple[str, str]
    login: tuple[str, str]
    auth_fault: str
    denied_fault: str
    calls: list[str] = field(factory=list)
    asgi: Starlette = field(init=False)
    _matches: dict[tuple[Mode, str, str], list[int]] = field(factory=dict, init=False)
    _indexes: dict[tuple[Mode, str, str], dict[str, list[int]]] = field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self.asgi = Starlette(
            routes=[
                Route("/v2/{entity}", self.partner, methods=["GET"]),
                Route(PHOTO_PATH, self.photo, methods=["GET"]),
                Route(SOAP_PATH, self.soap, methods=["POST"]),
            ]
        )

    def _select(self, mode: Mode, table: Table, text: str | None) -> list[int]:
        """Indexes of the rows ``text`` selects; remembered, as the data never changes
        (so a benchmark measures the client, not the simulator's filter evaluation)."""
        key = (mode, table.key, text or "")
        found = self._matches.get(key)
        if found is None:
            keep = compile_filter(text, table.lowered, self.max_terms[mode])  # validates
            in_list = plain_in_list(text)
            if in_list is not None:  # a batch of ids: answered from an index
                index = self._index(mode, table, in_list[0])
                found = sorted({n for value in in_list[1] for n in index.get(value, ())})
            else:
                found = [n for n, row in enumerate(table.filter_rows) if keep(row)]
            if len(self._matches) > 256:
                self._matches.clear()
            self._matches[key] = found
        return found

    def _index(self, mode: Mode, table: Table, column: str) -> dict[str, list[int]]:
        key = (mode, table.key, column)
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for n, row in enumerate(table.filter_rows):
                value = row.get(column)
                if isinstance(value, (int, str)) and not isinstance(value, bool):
                    index.setdefault(str(value).lower(), []).append(n)
            self._indexes[key] = index
        return index

    def _application_ok(self, request: Request) -> bool:
        return (
            request.headers.get("applicationid"),
            request.headers.get("applicationsecret"),
        ) == self.application

    # -- Partner Data API 2.0 --------------------------------------------------------------
    async def partner(self, request: Request) -> Response:
        name = request.path_params["entity"]
        self.calls.append(f"GET {name}")
        if not self._application_ok(request):
            return _failure(401, "Invalid ApplicationId or ApplicationSecret.")
        params, page = _query(request.scope.get("query_string", b"").decode("latin-1"))
        if params.get("schoolid") != str(self.school_id):
            return _failure(403, "This application has not been authorised by the school.")
        table = self.tables.named(Mode.PARTNER, name)
        if table is None:
            return _failure(404, f"Unknown entity '{name}'.")
        if table.key in self.denied:
            return _failure(403, f"Access to '{table.entity}' has not been granted.")
        try:
            chosen = self._select(Mode.PARTNER, table, params.get("entityfilter"))
        except FilterError as exc:
            return _failure(400, f"Invalid entityFilter: {exc}.")
        rows = [
            table.json_rows[n] for n in chosen[page * self.page_size : (page + 1) * self.page_size]
        ]
        body = b'{"success":true,"data":[' + b",".join(rows) + b"]}"
        return Response(body, 200, media_type="application/json")

    async def photo(self, request: Request) -> Response:
        self.calls.append("GET ImageDisplay")
        if not self._application_ok(request):
            return _failure(401, "Invalid ApplicationId or ApplicationSecret.")
        if "photos" in self.denied:
            return _failure(403, "Access to photos has not been granted.")
        found = self.images.get(request.query_params.get("EncID", ""))
        if found is None:
            return Response(b"", 404)
        return Response(found[0], 200, media_type=found[1])

    # -- legacy SOAP service ---------------------------------------------------------------
    async def soap(self, request: Request) -> Response:
        media = request.headers.get("content-type", "")
        if not media.lower().startswith("application/soap+xml"):
            return Response(b"", 415)
        try:
            root = SafeET.fromstring(await request.body())
            envelope_body = root.find("{http://www.w3.org/2003/05/soap-envelope}Body")
            body = envelope_body[0] if envelope_body is not None and len(envelope_body) else None
        except Exception:  # any unreadable request: ASMX answers a Sender fault
            body = None
        if body is None:
            return self._fault("Server was unable to read request.", "soap:Sender", 400)
        operation = body.tag.removeprefix(_TEMPURI)
        action = re.search(r'action="?([^";]+)"?', media)
        if action and action.group(1) != f"http://tempuri.org/{operation}":
            return self._fault("The action does not match the operation.", "soap:Sender")
        args = {child.tag.removeprefix(_TEMPURI).lower(): child.text or "" for child in body}
        self.calls.append(f"POST {operation} {args.get('entityname', '')}".rstrip())
        if (args.get("username"), args.get("password")) != self.login or args.get(
            "schoolid"
        ) != str(self.school_id):
            return self._fault(self.auth_fault)
        if operation == "findEntitiesBySchoolID":
            names = [
                {"EntityName": entity}
                for key, entity in self.tables.entities(Mode.SOAP)
                if key not in self.denied
            ]
            return self._result(operation, dataset_xml(["EntityName"], names))
        if operation != "getEntityDataBySchoolID":
            return self._fault(f"Unknown operation {operation}.", "soap:Sender")
        table = self.tables.named(Mode.SOAP, args.get("entityname", ""))
        if table is None:
            return self._fault("Server was unable to process request. ---> Invalid entity name.")
        if table.key in self.denied:
            return self._fault(self.denied_fault.format(entity=table.entity))
        try:
            chosen = self._select(Mode.SOAP, table, args.get("entityfilter"))
        except FilterError as exc:
            return self._fault(f"Server was unable to process request. ---> {exc}")
        rows = [table.out_rows[n] for n in chosen]
        return self._result(operation, dataset_xml(table.columns, rows))

    def _result(self, operation: str, xml: str) -> Response:
        return Response(
            soap_envelope(operation, xml), 200, media_type="application/soap+xml; charset=utf-8"
        )

    def _fault(self, reason: str, code: str = "soap:Receiver", status: int = 500) -> Response:
        return Response(
            soap_fault(reason, code), status, media_type="application/soap+xml; charset=utf-8"
        )
