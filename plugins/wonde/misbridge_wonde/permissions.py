"""Pre-flight: which Wonde scopes the application lacks, per dataset.

Each list a dataset needs is probed with one record (``per_page=1``) and the includes the
extract asks for. A refused list is a missing object scope (``"employees"``); an include
that comes back ``null`` rather than ``{"data": ...}`` is a missing property scope
(``"students.contact_details"``; a nested one, ``"students.classes.employees"``, is
checked on the probed record's first class), because Wonde keeps out-of-scope
properties and sends them as null (its documentation, "Scopes"). A person field that is
empty on the probed record, or a staff code not where ``staff_code_field`` says, is only
a note: one record may simply have no value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from misbridge.plugin import Dataset, PermissionCheck, PermissionDeniedError, SourceError
from misbridge_wonde.extract import (
    CLASS_INCLUDES,
    MEMBER_INCLUDES,
    STAFF_INCLUDES,
    STUDENT_INCLUDES,
    member_includes,
    staff_includes,
)
from misbridge_wonde.session import WondeSession

__all__ = ["NEEDS", "check"]

Need = tuple[str, tuple[str, ...]]

#: The lists (and includes) each dataset reads, including through other datasets' lists,
#: with the default settings (:func:`check` applies ``staff_code_field`` and ``class_staff``).
NEEDS: dict[Dataset, tuple[Need, ...]] = {
    Dataset.YEARS: (("groups", ()),),
    Dataset.STAFF: (("employees", STAFF_INCLUDES),),
    Dataset.STUDENTS: (("students", STUDENT_INCLUDES),),
    Dataset.GROUPS: (
        ("groups", ()),
        ("classes", CLASS_INCLUDES),
        ("students", MEMBER_INCLUDES),
        ("employees", MEMBER_INCLUDES),
    ),
    Dataset.PHOTOS: (("students", ("photo",)), ("employees", ("photo",))),
}

#: Person fields whose emptiness on the probed record suggests a missing scope.
_WATCHED = {
    "students": ("forename", "surname", "date_of_birth", "gender"),
    "employees": ("forename", "surname"),
}


class _Probe:
    """What one list's probe found: refused outright, or which includes came back null."""

    def __init__(self) -> None:
        self.refused = False
        self.null: set[str] = set()
        self.notes: list[str] = []


async def _probe(session: WondeSession, table: str, include: Sequence[str]) -> _Probe:
    found = _Probe()
    lister = session.lister
    url = lister.url(f"schools/{session.settings.school_id}/{table}")
    params: dict[str, str] = {"per_page": "1"}
    if include:
        params["include"] = ",".join(include)
    try:
        records, _ = await lister.get_page(url, params)
    except PermissionDeniedError:
        found.refused = True
        return found
    except SourceError as exc:
        found.notes.append(f"{table}: could not be checked ({exc.message})")
        return found
    if not records:
        found.notes.append(f"{table}: the school has none, so its fields were not checked")
        return found
    first: Mapping[str, Any] = records[0]
    found.null = {name for name in include if _is_null(first, name)}
    empty = [name for name in _WATCHED.get(table, ()) if first.get(name) in (None, "")]
    if empty:
        found.notes.append(
            f"{table}: {', '.join(empty)} empty on the first record; if that is so for "
            "everyone, grant the scope for it"
        )
    code_at = session.settings.staff_code_field
    if table == "employees" and (code_at.include is None or code_at.include not in found.null):
        located, _ = code_at.read(first)
        if not located:
            found.notes.append(
                f"employees: the first record has no staff code at {code_at}; set "
                "staff_code_field to where this Wonde account gives it"
            )
    return found


def _is_null(record: Mapping[str, Any], include: str) -> bool:
    """Whether an include came back null: ``a`` on the record, ``a.b`` on the first
    item of ``a`` (nothing to tell when ``a`` is null or empty)."""
    head, _, rest = include.partition(".")
    value = record.get(head)
    if not rest:
        return value is None
    inner = value.get("data") if isinstance(value, Mapping) else None
    items = inner if isinstance(inner, list) else [inner] if isinstance(inner, Mapping) else []
    first = next((i for i in items if isinstance(i, Mapping)), None)
    return first is not None and _is_null(first, rest)


async def check(session: WondeSession, datasets: Sequence[Dataset]) -> list[PermissionCheck]:
    """One probe per list (with every include any dataset asks of it), then per dataset
    the scopes it misses, directly or through a list another dataset also reads."""
    includes: dict[str, set[str]] = {}
    groups = member_includes(session)
    needs = {
        **NEEDS,
        Dataset.STAFF: (("employees", staff_includes(session.settings.staff_code_field)),),
        Dataset.GROUPS: (("groups", ()), *groups.items()),
    }
    for dataset in datasets:
        for table, wanted in needs.get(dataset, ()):
            includes.setdefault(table, set()).update(wanted)
    tables = sorted(includes)
    probes = await asyncio.gather(*(_probe(session, t, sorted(includes[t])) for t in tables))
    found = dict(zip(tables, probes, strict=True))
    checks = []
    for dataset in datasets:
        wanted_lists = needs.get(dataset)
        if wanted_lists is None:
            checks.append(
                PermissionCheck(dataset, notes=("Wonde offers no such data to this plugin",))
            )
            continue
        missing: dict[str, None] = {}
        notes: dict[str, None] = {}
        for table, wanted in wanted_lists:
            probe = found[table]
            if probe.refused:
                missing[table] = None
            missing.update((f"{table}.{name}", None) for name in wanted if name in probe.null)
            notes.update(dict.fromkeys(probe.notes))
        checks.append(PermissionCheck(dataset, tuple(missing), tuple(notes)))
    return checks
