"""Labels for stored rows in plans: identifiers only, as ``record_identity`` gives for
incoming records (admission number, staff code, group name, MIS id), never a name."""

from __future__ import annotations

from misbridge.store.kinds import IDENT_SEP, Kind
from misbridge.store.state import Row, StoreState

__all__ = ["RowLabels"]


class RowLabels:
    """Labels for stored rows (identifiers only, as in ``record_identity``)."""

    def __init__(self, state: StoreState) -> None:
        self.state = state

    def prepare(self, kind: Kind, rows: list[Row]) -> None:
        """Read, in batches, every row the labels of ``rows`` need."""
        if kind.identified:
            self.state.kinds[kind.name].fetch(r.id for r in rows)
            return
        wanted = {part for r in rows for part in (r.ident or "").split(IDENT_SEP)}
        for name in ("student", "staff", "group", "year_group"):
            ks = self.state.kinds.get(name)
            if ks is not None:
                ks.fetch(wanted)

    def _lookup(self, rid: object) -> tuple[Kind, Row] | None:
        found = self.state.find(str(rid)) if rid is not None else None
        if found is None or not found[0].kind.identified:
            return None
        found[0].fetch((found[1].id,))
        return found[0].kind, found[1]

    def __call__(self, kind: Kind, row: Row) -> str:
        ident = f"MIS id {row.mis_id}" if row.mis_id else f"store id {row.id}"
        if kind.identified:
            v = self.state.kinds[kind.name].values(row.id)
            if kind.name == "student":
                admission = v.get("admission_number")
                return f"admission number {admission}" if admission else f"student with {ident}"
            if kind.name == "staff":
                code = v.get("staff_code")
                return f"staff code {code}" if code else f"staff member with {ident}"
            what = {"group": str(v.get("kind")), "academic_year": "academic year"}
            return f"{what.get(kind.name, 'year group')} {v.get('name')} ({ident})"
        key = kind.split_ident(row.ident or "")
        person = self._lookup(key.get("person_id") or key.get("student_id"))
        who = self(*person) if person else "a person no longer identified"
        if kind.name == "membership":
            group = self._lookup(key.get("group_id"))
            return f"the membership of {who} in {self(*group) if group else 'a group'}"
        return f"the {kind.name.replace('_', ' ')} of {who}"
