"""A faithful stand-in for the Wonde API, serving one :class:`SourceSchool`.

Shipped code: the tests, ``misbridge demo --mis wonde`` and ``bench/bench_wonde.py`` use
it. It runs in-process (``source()`` gives an httpx transport, so the plugin's real HTTP
code runs with no socket) or on a loopback port (serve ``.app``).

Wire facts no public source settles are options (:class:`SimOptions`), never guesses
baked in; ``wire_names`` sets the key names inside the details objects and the group
``type`` strings; rate limits and outages are :class:`misbridge.simulation.Fault` values
in ``faults``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from misbridge.plugin import (
    ASGIApp,
    Dataset,
    Fault,
    HttpSimulator,
    SourceSchool,
)
from misbridge_wonde.schema import WireNames, carbon
from misbridge_wonde.simulator.app import build_app
from misbridge_wonde.simulator.options import DeletionRow, SimOptions
from misbridge_wonde.simulator.render import ENTITIES, Rendered, render_school
from misbridge_wonde.simulator.schools import school_json

__all__ = ["IN_PROCESS_BASE_URL", "SimOptions", "WondeSimulator", "simulate"]

#: The base URL in-process sources use: ``.invalid`` never resolves, so a token meant
#: for the simulator can never reach a real host by mistake.
IN_PROCESS_BASE_URL = "https://api.wonde.invalid/v1.0/"

#: When every simulated record last changed, unless a test says otherwise.
DEFAULT_CHANGED = datetime(2026, 9, 1, 7, 30, 0)


class WondeSimulator(HttpSimulator):
    """The Wonde API for one school; see the module docstring for the options."""

    in_process_url = IN_PROCESS_BASE_URL.removesuffix("/v1.0/")

    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset] = (),
        faults: Sequence[Fault] = (),
        token: str | None = None,
        wire_names: str | Mapping[str, str] | None = None,
        changed: datetime = DEFAULT_CHANGED,
        other_schools: Sequence[SourceSchool] = (),
        **options: Any,
    ) -> None:
        super().__init__(school, latency=latency, deny=deny, faults=faults)
        self.names = WireNames.from_json(wire_names)
        self.token = token or f"sim-{school.mis_id.lower()}-token"
        self.options = SimOptions(**options)
        self.other_schools = tuple(other_schools)
        self.rendered: Rendered = render_school(school, self.names, changed, self.options)
        self.deleted: dict[str, set[str]] = {table: set() for table in ENTITIES}
        self.deletions: list[DeletionRow] = []
        self.cache: dict[tuple[str, str, str], bytes] = {}

    # -- the simulator base's hooks -------------------------------------------------------------
    def asgi(self) -> ASGIApp:
        return build_app(self)

    def settings(self, base_url: str | None) -> dict[str, str]:
        root = (base_url or self.in_process_url).rstrip("/")
        return {"school_id": self.school.mis_id, "base_url": root + "/v1.0/"}

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def wrong_credentials(self) -> Mapping[str, str]:
        return {"token": "not-the-" + "x" * 8}

    # -- changing the school while it is served (incremental-sync tests) -------------------------
    def touch(self, table: str, entity_id: str, when: datetime) -> None:
        """Mark one record as changed at ``when`` (what ``updated_after`` filters on)."""
        entity = self.rendered.tables[table][entity_id]
        entity.updated = _naive_utc(when)
        entity.base["updated_at"] = carbon(entity.updated)
        self.cache.clear()

    def delete(self, table: str, entity_id: str, when: datetime) -> None:
        """Remove one record from the lists and add a row for it to ``deletions``."""
        if entity_id not in self.rendered.tables[table]:
            raise KeyError(f"{table} has no record {entity_id!r}")
        self.deleted[table].add(entity_id)
        self.cache.clear()
        entity = self.rendered.tables[table][entity_id]
        self.deletions.append(
            DeletionRow(
                seq=len(self.deletions) + 1,
                id=entity_id,
                type=_DELETION_TYPES.get(table, table),
                mis_id=str(entity.base.get("mis_id") or entity_id),
                deleted_at=_naive_utc(when),
            )
        )

    def restore(self, table: str, entity_id: str, when: datetime | None = None) -> None:
        """Bring a deleted record back: it is listed again, changed at ``when`` (its
        ``restored_at``), and its deletion row says when it was restored."""
        moment = _naive_utc(when or datetime.now(UTC))
        self.deleted[table].discard(entity_id)
        kind = _DELETION_TYPES.get(table, table)
        for row in reversed(self.deletions):
            if row.id == entity_id and row.type == kind:
                row.restored_at = moment
                break
        entity = self.rendered.tables[table][entity_id]
        if "restored_at" in entity.base:
            entity.base["restored_at"] = carbon(moment)
        self.touch(table, entity_id, moment)

    # -- what the app asks ---------------------------------------------------------------------
    def approved_schools(self, request: Request) -> list[dict[str, Any]]:
        domain = self.domain_for(request)
        return [
            {"seq": n, **school_json(s, domain)}
            for n, s in enumerate((self.school, *self.other_schools), start=1)
        ]

    def domain_for(self, request: Request) -> str:
        if self.options.region_domain:
            return self.options.region_domain
        return request.headers.get("host", "api.wonde.com")

    def right_region(self, request: Request) -> bool:
        wanted = self.options.region_domain
        return wanted is None or request.headers.get("host") == wanted


_DELETION_TYPES = {
    "students": "student",
    "employees": "employee",
    "groups": "group",
    "classes": "class",
    "subjects": "subject",
    "photos": "photo",
}


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def simulate(school: SourceSchool, **options: Any) -> WondeSimulator:
    """The simulator, for callers that name the factory (``MisInfo.simulator`` is the
    package's own, which imports this module on first use); ``options`` are
    :class:`WondeSimulator`'s keywords and :class:`SimOptions`' fields."""
    return WondeSimulator(school, **options)
