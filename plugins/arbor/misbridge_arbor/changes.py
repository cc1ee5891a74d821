"""Incremental extracts of students and staff from Arbor's change log.

Arbor numbers every change with a revision and serves ``GET /rest-v2/<resource>/
changelog?from-revision=N`` (sis-sdk-php ``PsrRestGateway::getChanges``). After each
complete read of students (or staff) the plugin keeps the highest revision it saw, per
Arbor host, in ``<misbridge home>/state/arbor-<host hash>.json`` with the time the read started
(revision numbers and times only, no personal data; written atomically, and only when
the whole dataset was read). With ``--since T`` it takes the latest read that started at
or before T, reads the change logs of the dataset's resources after that revision, works out
which people changed (a changed email address belongs to its owner, a changed person to
its student) and reads just those through GraphQL (``id_in``). Deleted people cannot be
sent as records: they are counted in the log, and the next full extract, which the store
trusts for leavers, disables them. Without such a read the extract is a full one.
Changes made while a full read runs may be seen by neither it nor the next incremental
read (the change log has no "now" to ask for first); the periodic full extract, which
the store needs anyway, picks them up.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from misbridge.config import home
from misbridge_arbor.client import ArborClient
from misbridge_arbor.reader import ref_id
from misbridge_arbor.selection import Spec

__all__ = ["LOGS", "changed_people", "high_water", "read_mark", "rows_for", "write_mark"]

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


def _path(base_url: str) -> Path:
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:16]
    return home() / "state" / f"arbor-{digest}.json"


def _marks(base_url: str) -> dict[str, list[list[Any]]]:
    try:
        marks = json.loads(_path(base_url).read_text(encoding="utf-8"))["marks"]
        return {str(k): [[str(t), int(r)] for t, r in v] for k, v in marks.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.warning("arbor.state_unreadable", path=str(_path(base_url)))
        return {}


def read_mark(base_url: str, entity: str, since: datetime) -> int | None:
    """The revision of the latest read of ``entity`` that started at or before
    ``since``: every change after ``since`` has a higher revision."""
    since = since.astimezone(UTC)  # a naive time (the command line's) is local time
    best: tuple[datetime, int] | None = None
    for when, revision in _marks(base_url).get(entity, []):
        started = datetime.fromisoformat(when)
        if started <= since and (best is None or started > best[0]):
            best = (started, revision)
    return None if best is None else best[1]


def write_mark(base_url: str, entity: str, started: datetime, revision: int) -> None:
    """Remember that a read of ``entity`` started at ``started`` saw up to ``revision``."""
    path = _path(base_url)
    marks = _marks(base_url)
    history = [*marks.get(entity, []), [started.isoformat(), revision]]
    marks[entity] = history[-KEEP:]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".arbor-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"marks": marks}, out, indent=2, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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


async def changed_people(
    client: ArborClient, entity: str, since: int
) -> tuple[set[str] | None, int]:
    """Ids of the entity's records changed after ``since`` (None: cannot tell, read
    everything), and the highest revision seen."""
    logs = LOGS[entity]
    answers = await asyncio.gather(*(client.changes(r, since) for r in logs))
    ids: set[str] = set()
    people: set[str] = set()
    mark, deleted = since, 0
    for (resource, link), changes in zip(logs.items(), answers, strict=True):
        for change in changes:
            mark = max(mark, _int(change.get("toRevision")))
            changed = change.get("changedObject")
            kind = change.get("changeType")
            if not isinstance(changed, Mapping):
                return None, mark
            if link == "":
                if kind == "delete":
                    deleted += 1
                elif (found := ref_id(changed)) is not None:
                    ids.add(found)
            elif link == "person" and resource == "people":
                if (found := ref_id(changed)) is not None:
                    people.add(found)
            else:
                owner = changed.get(link)
                if not isinstance(owner, Mapping):
                    return None, mark  # a deleted child we cannot place: read everything
                if owner.get("entityType") in (None, entity) and (found := ref_id(owner)):
                    ids.add(found)
    if people:
        ids |= await _owners_of(client, entity, people)
    if deleted:
        log.info("arbor.deleted_since", entity=entity, count=deleted)
    return ids, mark


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
