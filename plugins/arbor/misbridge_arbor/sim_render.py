"""Rendering store entities in Arbor's two wire formats.

REST (Arbor's developer docs, developers.arbor-education.com/api): listings return
``{entityType, href, id, displayName}`` stubs only; an object has its properties,
related objects nested as ``{entityType, href, displayName, ...their scalar
properties}`` (the docs' ``room.site`` example) and dates as
``{"entityType": "date", "date": "Y-m-d H:i:s"}``.

GraphQL (as public clients use it): root fields are entity names with ``page_size``
and ``page_num`` (0-based) and field filters; the response is ``{"data": {...}}`` or
``{"errors": [...]}``, and a field the application may not read comes back as an error
naming ``Entity.field``. The query is parsed with graphql-core (docs/decisions);
resolution over the store is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    value_from_ast_untyped,
)

from misbridge_arbor.sim_store import RESOURCES, REVERSE, EntityStore, Ref

__all__ = [
    "DEFAULT_GRAPHQL_PAGE_SIZE",
    "DENIED_MESSAGE",
    "GRAPHQL_ONLY",
    "GraphQLFailure",
    "execute_graphql",
    "href",
    "rest_object",
    "rest_stub",
]

#: Fields public clients read over GraphQL only: neither the SDK's REST models nor any
#: public REST client shows them (the REST path of UPNs is not published).
GRAPHQL_ONLY: dict[str, frozenset[str]] = {
    "Student": frozenset({"upn", "mostRecentEntryDate", "leavingDate", "displayAcademicLevel"}),
    "Staff": frozenset({"joiningDate", "leavingDate", "isActiveInSchool"}),
}

#: How Arbor words a field the application may not read (Arbor's developer portal, as
#: quoted by public integrations): ``You do not have access to `Entity.property`.``
DENIED_MESSAGE = "You do not have access to `{field}`."

#: GraphQL's page size when a query gives none (3000 per Arbor's developer portal, as
#: quoted by a public integration; not confirmed against a live school).
DEFAULT_GRAPHQL_PAGE_SIZE = 3000


def wire_id(entity_id: str) -> int | str:
    return int(entity_id) if entity_id.isdigit() else entity_id


def href(kind: str, entity_id: str) -> str:
    return f"/rest-v2/{RESOURCES[kind]}/{entity_id}"


def _arbor_date(value: date) -> dict[str, str]:
    when = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    return {"entityType": "date", "date": when.strftime("%Y-%m-%d %H:%M:%S")}


def rest_stub(store: EntityStore, kind: str, entity_id: str) -> dict[str, Any]:
    record = store.entities[kind][entity_id]
    return {
        "entityType": kind,
        "href": href(kind, entity_id),
        "id": wire_id(entity_id),
        "displayName": store.display_name(kind, record),
    }


def _rest_value(store: EntityStore, value: Any, depth: int) -> Any:
    if isinstance(value, Ref):
        record = store.get(value)
        if record is None:
            return {"entityType": value.type, "href": href(value.type, value.id)}
        nested = rest_stub(store, value.type, value.id)
        if depth < 1:
            for key, inner in record.items():
                if key not in GRAPHQL_ONLY.get(value.type, ()):
                    nested[key] = _rest_value(store, inner, depth + 1)
        return nested
    if isinstance(value, date):
        return _arbor_date(value)
    if isinstance(value, Mapping):
        return {k: _rest_value(store, v, depth) for k, v in value.items()}
    return value


def rest_object(store: EntityStore, kind: str, entity_id: str) -> dict[str, Any]:
    """The full REST representation of one object (without its root key)."""
    body = rest_stub(store, kind, entity_id)
    hidden = GRAPHQL_ONLY.get(kind, frozenset())
    for key, value in store.entities[kind][entity_id].items():
        if key not in hidden:
            body[key] = _rest_value(store, value, 0)
    body.setdefault("userTags", [])
    return body


# -- GraphQL ----------------------------------------------------------------------------------


Getter = Callable[[str, Mapping[str, Any]], Any]


_MISSING = object()
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _only_id(selection: SelectionSetNode | None) -> bool:
    if selection is None or len(selection.selections) != 1:
        return False
    (node,) = selection.selections
    return isinstance(node, FieldNode) and node.name.value == "id" and node.alias is None


class GraphQLFailure(Exception):
    """The query cannot be answered; ``errors`` is the GraphQL ``errors`` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "error")
        self.errors = errors


def _gql_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _matches(
    store: EntityStore, record: Mapping[str, Any], entity_id: str, args: Mapping[str, Any]
) -> bool:
    for name, wanted in args.items():
        if name in ("page_size", "page_num"):
            continue
        prop, _, op = name.rpartition("_")
        if prop == "id" or prop.endswith("__id"):
            base = prop[: -len("__id")] if prop.endswith("__id") else None
            target = record.get(base) if base else None
            actual = target.id if isinstance(target, Ref) else (entity_id if base is None else None)
            values = {str(v) for v in wanted} if op == "in" else {str(wanted)}
            if op not in ("in", "equals") or actual not in values:
                return False
            continue
        actual = record.get(prop)
        key = _gql_scalar(actual)
        if op == "equals":
            ok = key == wanted
        elif op == "in":
            ok = key in wanted
        elif op in ("before", "after") and isinstance(key, str) and isinstance(wanted, str):
            ok = key < wanted if op == "before" else key > wanted
        else:
            ok = False
        if not ok:
            return False
    return True


class _Executor:
    def __init__(
        self,
        store: EntityStore,
        hidden: Collection[str],
        denied: Collection[str],
        max_page_size: int | None,
        default_page_size: int,
        denied_message: str,
    ) -> None:
        self.store = store
        self.max_page_size = max_page_size
        self.default_page_size = default_page_size
        self.denied_message = denied_message
        self.hidden = hidden
        self.denied = denied
        self.errors: list[dict[str, Any]] = []
        self._plans: dict[tuple[str, int], list[tuple[str, Getter]]] = {}

    def check(self, kind: str, selection: SelectionSetNode | None, path: list[str]) -> None:
        """Collect every selected field the application may not read, before any data."""
        if selection is None:
            return
        for node in selection.selections:
            if not isinstance(node, FieldNode):
                continue
            name = node.name.value
            if kind in self.denied or f"{kind}.{name}" in self.hidden:
                self.errors.append(
                    {
                        "message": self.denied_message.format(field=f"{kind}.{name}"),
                        "path": [*path, name],
                    }
                )
                continue
            child = self._child_kind(kind, name)
            if child is not None:
                self.check(child, node.selection_set, [*path, name])

    def _child_kind(self, kind: str, name: str) -> str | None:
        reverse = REVERSE.get(kind, {}).get(name)
        if reverse is not None:
            return reverse[0]
        return self.store.ref_type(kind, name)

    def root(self, node: FieldNode) -> list[dict[str, Any]]:
        kind = node.name.value
        if kind not in RESOURCES:
            raise GraphQLFailure([{"message": f'Cannot query field "{kind}" on type "Query".'}])
        args = {a.name.value: value_from_ast_untyped(a.value) for a in node.arguments or ()}
        size = int(args.get("page_size", self.default_page_size))
        page = int(args.get("page_num", 0))
        if size < 1 or page < 0:
            raise GraphQLFailure([{"message": "page_size must be positive and page_num >= 0"}])
        if self.max_page_size is not None and size > self.max_page_size:
            if "page_size" not in args:  # the default is the server's own, capped
                size = self.max_page_size
            else:
                raise GraphQLFailure(
                    [{"message": f"page_size may not exceed {self.max_page_size}"}]
                )
        rows = self.store.rows(kind)
        if any(name not in ("page_size", "page_num") for name in args):
            rows = [(i, r) for i, r in rows if _matches(self.store, r, i, args)]
        window = rows[page * size : (page + 1) * size]
        return [self.obj(kind, i, r, node.selection_set) for i, r in window]

    def obj(
        self,
        kind: str,
        entity_id: str,
        record: Mapping[str, Any],
        selection: SelectionSetNode | None,
    ) -> dict[str, Any]:
        return {key: get(entity_id, record) for key, get in self.plan(kind, selection)}

    def plan(self, kind: str, selection: SelectionSetNode | None) -> list[tuple[str, Getter]]:
        """How to answer a selection on a kind, worked out once per query (it is asked
        for every row of a page)."""
        cache_key = (kind, id(selection))
        steps = self._plans.get(cache_key)
        if steps is None:
            steps = []
            for node in selection.selections if selection else ():
                if isinstance(node, FieldNode):
                    key = node.alias.value if node.alias else node.name.value
                    steps.append((key, self.getter(kind, node.name.value, node.selection_set)))
            self._plans[cache_key] = steps
        return steps

    def getter(self, kind: str, name: str, selection: SelectionSetNode | None) -> Getter:
        store = self.store
        if name == "id":
            return lambda entity_id, _: wire_id(entity_id)
        if name == "entityType":
            return lambda _, __: kind
        if name == "displayName":
            return lambda _, record: store.display_name(kind, record)
        reverse = REVERSE.get(kind, {}).get(name)
        if reverse is not None:
            child, link = reverse
            rows = store.entities[child]

            def children(entity_id: str, _: Mapping[str, Any]) -> Any:
                found = store.children(child, link, Ref(kind, entity_id))
                return [self.obj(child, i, rows[i], selection) for i in found]

            return children

        def get(_: str, record: Mapping[str, Any]) -> Any:
            if name in record:
                return self.value(record[name], selection)
            # GraphQL flattens the person's fields onto Student and Staff (public clients
            # read Student.legalFirstName and Student.dateOfBirth directly).
            person = record.get("person")
            found = store.get(person) if isinstance(person, Ref) else None
            if found is not None and name in found:
                return self.value(found[name], selection)
            raise GraphQLFailure([{"message": f'Cannot query field "{name}" on type "{kind}".'}])

        if _only_id(selection):
            # A reference asked for its id alone (every membership row): no lookup of
            # the target beyond checking it exists.
            def ref_id(_: str, record: Mapping[str, Any]) -> Any:
                value = record.get(name, _MISSING)
                if isinstance(value, Ref):
                    found = store.entities.get(value.type, {})
                    return {"id": wire_id(value.id)} if value.id in found else None
                if value is _MISSING:
                    return get(_, record)
                return self.value(value, selection)

            return ref_id

        return get

    def value(self, value: Any, selection: SelectionSetNode | None) -> Any:
        kind = type(value)
        if kind in _PLAIN:  # most values: answered without the slower checks below
            return value
        if kind is date:
            return value.isoformat()
        if isinstance(value, Ref):
            target = self.store.get(value)
            if target is None:
                return None
            return self.obj(value.type, value.id, target, selection)
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for node in selection.selections if selection else ():
                if isinstance(node, FieldNode):
                    name = node.name.value
                    if name not in value:
                        raise GraphQLFailure([{"message": f'Cannot query field "{name}".'}])
                    out[name] = self.value(value[name], node.selection_set)
            return out
        return _gql_scalar(value)


def execute_graphql(
    store: EntityStore,
    query: str,
    *,
    hidden: Collection[str] = (),
    denied: Collection[str] = (),
    max_page_size: int | None = None,
    default_page_size: int = DEFAULT_GRAPHQL_PAGE_SIZE,
    denied_message: str = DENIED_MESSAGE,
) -> dict[str, Any]:
    """Answer a GraphQL query body: ``{"data": ...}`` or raise :class:`GraphQLFailure`."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise GraphQLFailure([dict(exc.formatted)]) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise GraphQLFailure([{"message": "send exactly one query operation"}])
    executor = _Executor(store, hidden, denied, max_page_size, default_page_size, denied_message)
    roots = [n for n in operations[0].selection_set.selections if isinstance(n, FieldNode)]
    for node in roots:
        executor.check(node.name.value, node.selection_set, [node.name.value])
    if executor.errors:
        raise GraphQLFailure(executor.errors)
    data = {(n.alias.value if n.alias else n.name.value): executor.root(n) for n in roots}
    return {"data": data}
