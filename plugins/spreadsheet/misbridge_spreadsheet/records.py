"""Rows of one table -> source records, through one sheet of a mapping.

The plugin maps and the core decides: cells go into source records as text, contact
details as *all* of them with their types and flags. What only a spreadsheet can get
wrong is checked here: a mapped column missing from the file refuses the file (a sync
would otherwise blank that field for everyone); a row without its ID, with a group kind
or role no one knows, or naming a pupil no one has, is kept back and reported with its
row number once the sheet is read, so that every good row is still imported.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from misbridge.plugin import (
    FlagParseError,
    GroupKind,
    Role,
    SourceAcademicYear,
    SourceAddress,
    SourceAssessment,
    SourceEmail,
    SourceFormatError,
    SourceGroup,
    SourceMembership,
    SourceRecord,
    SourceSen,
    SourceStaff,
    SourceStudent,
    SourceTelephone,
    SourceYearGroup,
    parse_flag,
)
from misbridge_spreadsheet.mapping import Aspect, Column, Constant, ContactGroup, Sheet, Spec
from misbridge_spreadsheet.table import Row, Table, header_key
from misbridge_spreadsheet.vocab import GROUP_KINDS, ROLES, STUDENT_TEXT, Problems

__all__ = ["SheetReader"]

Cells = list[str | None]
Lookup = Mapping[str, str]


class SheetReader:
    """Reads one table through one mapping sheet (see the module docstring).

    ``students``/``staff`` map a marksheet's or a membership's person key (admission
    number, UPN, staff code) to MIS ids, when the sheet names people that way.
    """

    def __init__(
        self,
        sheet: Sheet,
        table: Table,
        *,
        term: str | None = None,
        assessed_on: str | None = None,
        students: Lookup | None = None,
        staff: Lookup | None = None,
    ) -> None:
        self.sheet = sheet
        self.table = table
        self.term = term
        self.assessed_on = assessed_on
        self.lookups = {Role.STUDENT: students, Role.STAFF: staff}
        self.problems = Problems(table.label)
        self._at: dict[str, int] = {}
        missing = [n for n in sheet.column_names() if self._resolve(n) is None]
        if missing:
            raise self._missing(missing)
        self.aspects = self._aspects()
        self._groups_seen: set[tuple[str, str]] = set()
        self._members_seen: set[tuple[Any, ...]] = set()
        self._open: tuple[int, list[Cells]] | None = None
        self._key_seen: set[str] = set()
        self.read = 0

    # -- columns ---------------------------------------------------------------------------
    def _resolve(self, name: str) -> int | None:
        position = self.table.position(name)
        if position is not None:
            self._at[name] = position
        return position

    def _missing(self, missing: list[str]) -> SourceFormatError:
        present = [h for h in self.table.header if h]
        hints = []
        for name in missing[:8]:
            close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
            hints.append(f"{name!r}" + (f" (is it {close[0]!r}?)" if close else ""))
        return SourceFormatError(
            f"spreadsheet: {self.table.label} has no column {', '.join(hints)}, which the "
            f"mapping reads: export it with that column, or take the column out of the mapping "
            f"(a sync then keeps what the store holds for it). The file has: "
            f"{', '.join(repr(h) for h in present[:30])}"
        )

    def _aspects(self) -> tuple[Aspect, ...]:
        sheet = self.sheet
        if sheet.record != "marksheet":
            return ()
        aspects = list(sheet.aspects)
        if sheet.other_columns == "aspects":
            used = {header_key(n) for n in (*sheet.column_names(), *sheet.ignore)}
            words = sorted(sheet.grade_words, key=len, reverse=True)
            for header in self.table.header:
                if not header or header_key(header) in used:
                    continue
                aspect = Aspect(header)
                for word in words:
                    if header_key(header).endswith(header_key(word)):
                        subject = header[: len(header) - len(word)].strip(" -:/") or None
                        aspect = Aspect(header, subject, word)
                        break
                aspects.append(aspect)
                self._resolve(header)
        return tuple(aspects)

    def value(self, spec: Spec | None, cells: Cells) -> str | None:
        if spec is None:
            return None
        if isinstance(spec, Constant):
            return spec.value
        position = self._at[spec.name]
        return cells[position] if position < len(cells) else None

    def field(self, name: str, cells: Cells) -> str | None:
        return self.value(self.sheet.columns.get(name), cells)

    # -- streaming -------------------------------------------------------------------------
    def records(self, chunk: Iterable[Row]) -> Iterator[SourceRecord]:
        """The records of one chunk of rows (a ``key`` sheet keeps its last entity
        open until :meth:`finish`)."""
        build = self._builder()
        for number, cells in chunk:
            yield from build(number, cells)

    def finish(self) -> Iterator[SourceRecord]:
        if self._open is not None:
            yield from self._entity(*self._open)
            self._open = None
        self.problems.raise_any()

    def _builder(self) -> Callable[[int, Cells], Iterable[SourceRecord]]:
        record = self.sheet.record
        if record in ("student", "staff") and self.sheet.key:
            return self._keyed
        return {
            "academic_year": self._academic_year,
            "year_group": self._year_group,
            "group": self._group,
            "membership": self._membership,
            "assessment": self._assessment,
            "marksheet": self._marksheet,
        }.get(record, lambda n, c: self._entity(n, [c]))

    def _counted(self, records: Iterable[SourceRecord]) -> Iterator[SourceRecord]:
        for r in records:
            self.read += 1
            yield r

    def _keyed(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        # Rows of one person come together (a report's cross product or stacked rows).
        key = self.value(Column(self.sheet.key or ""), cells)
        seen = self._key_seen
        done: Iterable[SourceRecord] = ()
        if self._open is not None:
            first, rows = self._open
            if key == self.value(Column(self.sheet.key or ""), rows[0]):
                rows.append(cells)
                return ()
            done = list(self._entity(first, rows))
        if key is not None and key in seen:
            self.problems.add(
                f"repeat {self.sheet.key} {key} after other rows (sort the export by "
                f"{self.sheet.key})",
                number,
            )
            self._open = None
            return done
        if key is not None:
            seen.add(key)
        self._open = (number, [cells])
        return done

    def _entity(self, number: int, rows: list[Cells]) -> Iterator[SourceRecord]:
        first = rows[0]
        mis_id = self.field("mis_id", first)
        if mis_id is None:
            self.problems.add(f"have no {self._name('mis_id')}", number)
            return
        contacts = self._contacts(rows, number)
        if contacts is None:
            return
        f = self.field
        if self.sheet.record == "staff":
            record: SourceRecord = SourceStaff(
                mis_id=mis_id,
                title=f("title", first),
                forename=f("forename", first),
                surname=f("surname", first),
                gender=f("gender", first),
                emails=tuple(contacts.get("emails", ())),
                staff_code=f("staff_code", first),
            )
        else:
            record = SourceStudent(
                mis_id=mis_id,
                **{name: f(name, first) for name in STUDENT_TEXT},
                addresses=tuple(contacts.get("addresses", ())),
                telephones=tuple(contacts.get("telephones", ())),
                emails=tuple(contacts.get("emails", ())),
                sen=tuple(contacts.get("sen", ())),
            )
        yield from self._counted((record,))

    def _name(self, field: str) -> str:
        spec = self.sheet.columns.get(field)
        return repr(spec.name) if isinstance(spec, Column) else field

    # -- contact details -------------------------------------------------------------------
    def _flag(self, spec: Spec | None, cells: Cells, number: int) -> bool | None:
        text = self.value(spec, cells)
        try:
            return bool(parse_flag(text))
        except FlagParseError:
            name = spec.name if isinstance(spec, Column) else "flag"
            self.problems.add(f"have a {name!r} that is not yes or no", number)
            return None

    def _contacts(self, rows: list[Cells], number: int) -> dict[str, list[Any]] | None:
        found: dict[str, list[Any]] = {}
        for cells in rows:
            for group in self.sheet.groups:
                entry = self._contact(group, cells, number)
                if entry is False:
                    return None
                if entry is not None and entry not in found.setdefault(group.kind, []):
                    found[group.kind].append(entry)
        return found

    def _contact(self, group: ContactGroup, cells: Cells, number: int) -> Any:
        get = group.fields.get
        kind = self.value(get("type"), cells)
        if group.kind == "addresses":
            lines = [self.value(c, cells) for c in group.lines]
            parts = [p.strip() for line in lines if line for p in line.splitlines() if p.strip()]
            postcode = self.value(get("postcode"), cells)
            if not parts and postcode is None:
                return None
            start = self.value(get("start"), cells)
            return SourceAddress(type=kind, lines=tuple(parts), postcode=postcode, start=start)
        if group.kind == "sen":
            code = self.value(get("code"), cells)
            if code is None:
                return None
            return SourceSen(code, self.value(get("start"), cells), self.value(get("end"), cells))
        value = self.value(get("number" if group.kind == "telephones" else "address"), cells)
        if value is None:
            return None
        primary = self._flag(get("primary"), cells, number)
        main = self._flag(get("main"), cells, number)
        if primary is None or main is None:
            return False
        if group.kind == "telephones":
            return SourceTelephone(type=kind, number=value, primary=primary, main=main)
        return SourceEmail(type=kind, address=value, primary=primary, main=main)

    # -- years and groups ------------------------------------------------------------------
    def _academic_year(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        mis_id = self.field("mis_id", cells)
        if mis_id is None:
            self.problems.add(f"have no {self._name('mis_id')}", number)
            return ()
        f = self.field
        year = SourceAcademicYear(mis_id, f("name", cells), f("start", cells), f("end", cells))
        return self._counted((year,))

    def _year_group(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        mis_id = self.field("mis_id", cells)
        if mis_id is None:
            self.problems.add(f"have no {self._name('mis_id')}", number)
            return ()
        f = self.field
        group = SourceYearGroup(
            mis_id, f("name", cells), f("code", cells), f("start", cells), f("end", cells)
        )
        return self._counted((group,))

    def _kind(self, text: str | None, number: int) -> GroupKind | None:
        kind = GROUP_KINDS.get(header_key(text or ""))
        if kind is None:
            self.problems.add(f"have a group kind that is not {', '.join(GROUP_KINDS)}", number)
        return kind

    def _group(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        mis_id = self.field("mis_id", cells)
        kind = self._kind(self.field("kind", cells), number)
        if mis_id is None:
            self.problems.add(f"have no {self._name('mis_id')}", number)
        if mis_id is None or kind is None:
            return ()
        f = self.field
        group = SourceGroup(mis_id, f("name", cells), kind, f("subject", cells), f("code", cells))
        return self._counted((group,))

    def _person(self, role: Role, text: str | None, number: int) -> str | None:
        if text is None:
            return None
        lookup = self.lookups[role]
        key = self.sheet.student_key if role is Role.STUDENT else self.sheet.staff_key
        if key == "mis_id" or lookup is None:
            return text
        found = lookup.get(text.strip())
        if found is None:
            label = key.replace("_", " ")
            self.problems.add(f"name a {role.value} {label} that no {role.value} has", number)
        return found

    def _membership(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        f = self.field
        group_id = f("group_mis_id", cells)
        person = f("person_mis_id", cells)
        if group_id is None or person is None:
            return ()  # a report's cross product leaves people out of some rows
        kind = self._kind(f("group_kind", cells), number)
        role = ROLES.get(header_key(f("role", cells) or ""))
        if role is None:
            self.problems.add(f"have a role that is not {', '.join(ROLES)}", number)
        if kind is None or role is None:
            return ()
        person_id = self._person(role, person, number)
        if person_id is None:
            return ()
        out: list[SourceRecord] = []
        if "group_name" in self.sheet.columns and (kind.value, group_id) not in self._groups_seen:
            self._groups_seen.add((kind.value, group_id))
            if kind is not GroupKind.YEAR:
                name, subject = f("group_name", cells), f("group_subject", cells)
                out.append(SourceGroup(group_id, name, kind, subject, f("group_code", cells)))
        start, end = f("start", cells), f("end", cells)
        identity = (kind, group_id, person_id, role, start, end)
        if identity not in self._members_seen:  # a cross product repeats each membership
            self._members_seen.add(identity)
            out.append(SourceMembership(group_id, kind, person_id, role, start, end))
        return self._counted(out)

    # -- assessments -----------------------------------------------------------------------
    def _assessment(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        f = self.field
        student = self._person(Role.STUDENT, f("student", cells), number)
        if student is None:
            if f("student", cells) is None:
                self.problems.add(f"have no {self._name('student')}", number)
            return ()
        result = f("result", cells)
        if result is None:
            return ()  # an empty cell is no grade
        grade = SourceAssessment(
            student,
            f("aspect", cells),
            result,
            f("grade_type", cells),
            f("subject", cells),
            f("term", cells) or self.term,
            f("result_date", cells) or self.assessed_on,
        )
        return self._counted((grade,))

    def _marksheet(self, number: int, cells: Cells) -> Iterable[SourceRecord]:
        f = self.field
        raw = f("student", cells)
        student = self._person(Role.STUDENT, raw, number)
        if student is None:
            if raw is None:
                self.problems.add(f"have no {self._name('student')}", number)
            return ()
        term = f("term", cells) or self.term
        when = f("result_date", cells) or self.assessed_on
        out = []
        for aspect in self.aspects:
            result = self.value(Column(aspect.column), cells)
            if result is not None:
                out.append(
                    SourceAssessment(
                        student,
                        aspect.column,
                        result,
                        aspect.grade_type,
                        aspect.subject,
                        term,
                        when,
                    )
                )
        return self._counted(out)
