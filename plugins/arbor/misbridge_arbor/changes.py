"""Incremental extracts of students and staff from Arbor's change log.

Arbor numbers every change with a revision and serves ``GET /rest-v2/<resource>/
changelog?from-revision=N`` (arbor-education/sis-sdk-php ``PsrRestGateway::getChanges``).
After each full read of students (or staff) the plugin advances the dataset's core
checkpoint to the highest revision it saw, with the time the read started (see
:mod:`misbridge.reads`: the core keeps it only when the sync that used the read was
applied). A later read with ``--since T`` (or ``incremental=auto``) starts from that
checkpoint when it began at or before T, reads the change logs of the dataset's
resources after its revision, works out which people changed (a changed email address
belongs to its owner, a changed person to its student) and reads just those through
GraphQL (``id_in``). People the log says were deleted are named as deletions, which
the store disables one by one. Without a checkpoint to start from the read is a full
one. Changes made while a full read runs may be seen by neither it nor the next
incremental read (the change log has no "now" to ask for first); the periodic full
extract, which the store needs anyway, picks them up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import structlog

from misbridge_arbor.client import ArborClient
from misbridge_arbor.reader import ref_id
from misbridge_arbor.selection import Spec

__all__ = ["LOGS", "Changes", "changed_people", "high_water", "rows_for"]

log = structlog.get_logger()
KEEP = 30  # marks kept per entity: enough for a month of daily extracts

#: Per entity: change-log resource -> property linking a changed object to its owner
#: ("" for the entity's own resource, "person" for the shared people resource).
LOGS: dict[str, dict[str, str]] = {
    "Student": {
        "students": "",
        "people": "person",
        "email-addresses": "emailAddressOwner",
        "telephone-numbers": "numberOwner",
        "postal-address-occupancies": "occupant",
        "sen-status-assignments": "student",
        "eligibility-records": "person",
    },
    "Staff": {
        "staff": "",
        "people": "person",
        "email-addresses": "emailAddressOwner",
        "telephone-numbers": "numberOwner",
        "staff-contracts": "staff",
    },
}


def high_water(row: Any) -> int:
    """The highest ``revisionId`` anywhere in a row (its person, its contacts...)."""
    best = 0
    if isinstance(row, Mapping):
        value = row.get("revisionId")
        if isinstance(value, int):
            best = value
        for inner in row.values():
            if isinstance(inner, Mapping | list):
                best = max(best, high_water(inner))
    elif isinstance(row, list):
        best = max((high_water(item) for item in row), default=0)
    return best


class Changes:
    """What the change log says of one entity after a revision."""

    def __init__(self, changed: set[str] | None, mark: int, deleted: set[str]) -> None:
        self.changed = changed  # None: the log cannot tell, read everything
        self.mark = mark
        self.deleted = deleted


async def changed_people(client: ArborClient, entity: str, since: int) -> Changes:
    """The entity's records changed and deleted after ``since``, and the highest
    revision seen."""
    logs = LOGS[entity]
    answers = await asyncio.gather(*(client.changes(r, since) for r in logs))
    ids: set[str] = set()
    people: set[str] = set()
    mark = since
    deleted: set[str] = set()
    for (resource, link), changes in zip(logs.items(), answers, strict=True):
        for change in changes:
            mark = max(mark, _int(change.get("toRevision")))
            changed = change.get("changedObject")
            kind = change.get("changeType")
            if not isinstance(changed, Mapping):
                return Changes(None, mark, deleted)
            if link == "":
                if kind == "delete":
                    if (gone := ref_id(changed)) is not None:
                        deleted.add(gone)
                elif (found := ref_id(changed)) is not None:
                    ids.add(found)
            elif link == "person" and resource == "people":
                if (found := ref_id(changed)) is not None:
                    people.add(found)
            else:
                owner = changed.get(link)
                if not isinstance(owner, Mapping):
                    return Changes(None, mark, deleted)  # a deleted child: read everything
                if owner.get("entityType") in (None, entity) and (found := ref_id(owner)):
                    ids.add(found)
    if people:
        ids |= await _owners_of(client, entity, people)
    if deleted:
        log.info("arbor.deleted_since", entity=entity, count=len(deleted))
    return Changes(ids - deleted, mark, deleted)


async def _owners_of(client: ArborClient, entity: str, people: set[str]) -> set[str]:
    owners: set[str] = set()
    async for page in client.graphql_pages(entity, {"id": None, "person": {"id": None}}):
        owners |= {str(r["id"]) for r in page if ref_id(r.get("person")) in people}
    return owners


async def rows_for(
    client: ArborClient, entity: str, spec: Spec, ids: set[str]
) -> AsyncIterator[list[dict[str, Any]]]:
    """The rows of just these ids, a page of ids at a time."""
    ordered = sorted(ids)
    size = client.config.page_size
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        async for page in client.graphql_pages(entity, spec, {"id_in": chunk}):
            yield page


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
