"""Reading entities in either mode, as GraphQL-shaped rows.

``graphql`` (default): one query per page of each root entity (``page_size``/``page_num``).
``rest``: what the official SDK does: each listing page gives references only, and each
object costs one more request (Arbor's docs: a listing holds "the URL of each individual
resource"; the Ruby gem's README calls it N+1); nested lookups are
fetched by their ``href`` (once each), reverse lists (a student's email addresses) come
from the child resource's listing, and the fields Arbor documents on GraphQL only
(``Student.upn`` and the on-roll dates) still come from one GraphQL query.

Either way a row is a dict with exactly the keys of the :data:`Spec`, so the mapping
does not know which mode read it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from typing import Any

from misbridge.plugin import SourceFormatError
from misbridge_arbor.client import ArborClient
from misbridge_arbor.selection import Spec

__all__ = ["GRAPHQL_ONLY", "RESOURCES", "REVERSE", "Reader", "ref_id"]

RESOURCES: dict[str, str] = {
    "AcademicYear": "academic-years",
    "AcademicLevel": "academic-levels",
    "AcademicLevelMembership": "academic-level-memberships",
    "AcademicLevelTutor": "academic-level-tutors",
    "RegistrationForm": "registration-forms",
    "RegistrationFormMembership": "registration-form-memberships",
    "RegistrationFormTutor": "registration-form-tutors",
    "House": "houses",
    "HouseMembership": "house-memberships",
    "HouseTutor": "house-tutors",
    "TeachingGroup": "teaching-groups",
    "TeachingGroupMembership": "teaching-group-memberships",
    "TeachingGroupTutor": "teaching-group-tutors",
    "Student": "students",
    "Staff": "staff",
    "StaffContract": "staff-contracts",
    "EmailAddress": "email-addresses",
    "TelephoneNumber": "telephone-numbers",
    "PostalAddressOccupancy": "postal-address-occupancies",
    "SenStatusAssignment": "sen-status-assignments",
    "EligibilityRecord": "eligibility-records",
    "QualificationResult": "qualification-results",
}

#: Reverse lists on GraphQL entities -> (child entity, property linking to the parent).
REVERSE: dict[str, dict[str, tuple[str, str]]] = {
    "Student": {
        "emailAddresses": ("EmailAddress", "emailAddressOwner"),
        "telephoneNumbers": ("TelephoneNumber", "numberOwner"),
        "postalAddressOccupancies": ("PostalAddressOccupancy", "occupant"),
        "senStatusAssignments": ("SenStatusAssignment", "student"),
        "eligibilityRecords": ("EligibilityRecord", "person"),
    },
    "Staff": {
        "emailAddresses": ("EmailAddress", "emailAddressOwner"),
        "telephoneNumbers": ("TelephoneNumber", "numberOwner"),
    },
}

#: Fields public clients read over GraphQL only (``Student.upn``; the staff flags): the
#: SDK's REST models do not have them.
GRAPHQL_ONLY: dict[str, frozenset[str]] = {
    "Student": frozenset({"upn", "mostRecentEntryDate", "leavingDate", "displayAcademicLevel"}),
    "Staff": frozenset({"joiningDate", "leavingDate", "isActiveInSchool"}),
}


def ref_id(value: Any) -> str | None:
    """The id of a related object (GraphQL ``{id}`` or a REST ``{href}`` stub)."""
    if not isinstance(value, Mapping):
        return None
    raw = value.get("id")
    if raw is None and isinstance(value.get("href"), str):
        raw = value["href"].rstrip("/").rpartition("/")[2]
    return None if raw is None else str(raw)


class Reader:
    """Rows of one entity at a time; see the module docstring."""

    def __init__(self, client: ArborClient) -> None:
        self.client = client
        self.mode = client.config.read_mode

    async def rows(self, entity: str, spec: Spec) -> AsyncIterator[list[dict[str, Any]]]:
        if self.mode == "graphql":
            async for page in self.client.graphql_pages(entity, spec):
                yield page
            return
        async for page in self._rest_rows(entity, spec):
            yield page

    async def all_rows(self, entity: str, spec: Spec) -> list[dict[str, Any]]:
        return [row async for page in self.rows(entity, spec) for row in page]

    async def ids(self, entity: str) -> list[str]:
        """Just the ids of an entity (one small page per request in either mode)."""
        if self.mode == "graphql":
            return [str(r["id"]) async for page in self.rows(entity, {"id": None}) for r in page]
        found: list[str] = []
        async for page in self.client.rest_listing(RESOURCES[entity]):
            found += [i for i in map(ref_id, page) if i is not None]
        return found

    # -- REST ------------------------------------------------------------------------------
    async def _rest_rows(self, entity: str, spec: Spec) -> AsyncIterator[list[dict[str, Any]]]:
        reverse = {k: v for k, v in REVERSE.get(entity, {}).items() if k in spec}
        only = {k for k in GRAPHQL_ONLY.get(entity, frozenset()) if k in spec}
        rest_spec = {k: v for k, v in spec.items() if k not in reverse and k not in only}
        if only:
            rest_spec.setdefault("id", None)
        children: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name, (child, link) in reverse.items():
            sub = spec[name] or {}
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            async for page in self._rest_rows(child, {**sub, link: {"id": None}}):
                for row in page:
                    owner = ref_id(row.pop(link))
                    if owner is not None:
                        grouped[owner].append(row)
            children[name] = grouped
        extra: dict[str, dict[str, Any]] = {}
        if only:
            wanted = {"id": None, **{k: spec[k] for k in only}}
            async for page in self.client.graphql_pages(entity, wanted):
                extra.update({str(r["id"]): r for r in page})
        async for stubs in self.client.rest_listing(RESOURCES[entity]):
            objects = await asyncio.gather(
                *(self.client.rest_object(self._href(stub)) for stub in stubs)
            )
            page = [await self._resolve(obj, rest_spec) for obj in objects]
            for row, obj in zip(page, objects, strict=True):
                key = ref_id(obj) or ""
                for name in reverse:
                    row[name] = children[name].get(key, [])
                for name in only:
                    row[name] = extra.get(key, {}).get(name)
            yield page

    @staticmethod
    def _href(stub: Mapping[str, Any]) -> str:
        href = stub.get("href")
        if not isinstance(href, str) or not href.startswith("/rest-v2/"):
            raise SourceFormatError("arbor: a listing entry has no /rest-v2/ href", mis="arbor")
        return href

    async def _resolve(self, obj: Mapping[str, Any], spec: Spec) -> dict[str, Any]:
        out: dict[str, Any] = {}
        current: Mapping[str, Any] = obj
        for key, sub in spec.items():
            if key == "id":
                out["id"] = ref_id(current)
                continue
            if key not in current and isinstance(current.get("href"), str):
                # A nested stub without the property: fetch the object, once per href.
                current = await self.client.rest_object(self._href(current), cache=True)
            value = current.get(key)
            if sub and isinstance(value, Mapping):
                out[key] = await self._resolve(value, sub)
            elif sub and isinstance(value, list):
                out[key] = [await self._resolve(v, sub) for v in value if isinstance(v, Mapping)]
            else:
                out[key] = value
        return out
