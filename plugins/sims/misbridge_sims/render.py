"""Render a school as CommandReporter would: ``SuperStarReport`` XML, per report.

Used by the stand-in (and so by the simulator, the demo and the benchmarks). Written
from ESS's CommandReporter guide and the public parsers of its output (the sources are
listed in docs/plugins/sims.md): one ``<Record>`` per row, one element per column named by its
caption encoded like .NET ``XmlConvert.EncodeName`` (space -> ``_x0020_``), empty
values left out, several record sets multiplied into their cross product (an empty
record set contributes one empty side, as an outer join), ``True``/``False`` flags,
NC years as "Year  7" and ID columns left out for accounts outside "Third Party
Reporter". How SIMS writes dates in XML is not documented, so it is an option.
"""

from __future__ import annotations

import base64
import codecs
import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import IO, Any

from misbridge.plugin import GroupKind, Role, SourceMembership, SourceSchool
from misbridge_sims.reports import ReportDef

__all__ = ["DATE_FORMATS", "encode_name", "escape", "render_date", "report_rows", "write_report"]

Row = dict[str, Any]

#: "iso": xs:dateTime as .NET serialises DateTime (inferred from a public C#
#: XmlSerializer model of the output);
#: "uk": dd/mm/yyyy; "uk-datetime": dd/mm/yyyy 00:00:00 as in /PARAMS.
DATE_FORMATS = {"iso": "%Y-%m-%dT%H:%M:%S", "uk": "%d/%m/%Y", "uk-datetime": "%d/%m/%Y %H:%M:%S"}

GROUP_TYPE_NAMES = {
    GroupKind.REGISTRATION: "Registration Group",
    GroupKind.HOUSE: "House",
    GroupKind.YEAR: "Year Group",
}


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils would pull in urllib: the stand-in starts
    once per report, so its imports are kept small)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode_name(caption: str) -> str:
    """.NET ``XmlConvert.EncodeName``: characters not allowed in an XML name become
    ``_xHHHH_``; an underscore that would start such an escape becomes ``_x005F_``."""
    out: list[str] = []
    for i, ch in enumerate(caption):
        if ch == "_" and caption[i + 1 : i + 2] == "x":
            out.append("_x005F_")
        elif (ch.isalpha() or ch == "_") or (i > 0 and (ch.isdigit() or ch in ".-")):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"_x{code:04X}_" if code <= 0xFFFF else f"_x{code:08X}_")
    return "".join(out)


def render_date(value: object, fmt: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        moment = (
            value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        )
        return moment.strftime(DATE_FORMATS[fmt])
    return str(value)


def _year(code: str | None) -> str | None:
    # SIMS pads the NC year to two places: "Year  7", "Year 10".
    if code is None:
        return None
    if code.upper() == "R":
        return "Reception"
    return f"Year {code:>2}" if code.isdigit() else code


def _flag(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _cross(main: Row, subsets: Iterable[list[Row]]) -> Iterator[Row]:
    sides = [rows or [{}] for rows in subsets]
    for combination in itertools.product(*sides):
        row = dict(main)
        for part in combination:
            row.update(part)
        yield row


def _members(memberships: Iterable[SourceMembership], d: Any) -> tuple[list[Row], list[Row]]:
    students: list[Row] = []
    staff: list[Row] = []
    for m in memberships:
        side, rows = ("Student", students) if m.role is Role.STUDENT else ("Staff", staff)
        rows.append(
            {
                f"{side} ID": m.person_mis_id,
                f"{side} Start Date": d(m.start),
                f"{side} End Date": d(m.end),
            }
        )
    return students, staff


def report_rows(report: ReportDef, school: SourceSchool, date_format: str = "iso") -> Iterator[Row]:
    """Every ``<Record>`` of ``report`` for ``school``, as caption -> raw value."""

    def d(value: object) -> str | None:
        return render_date(value, date_format)

    key = report.key
    if key == "academic_years":
        for ay in school.academic_years:
            yield {
                "ID": ay.mis_id,
                "Name": ay.name,
                "Start Date": d(ay.start),
                "End Date": d(ay.end),
            }
    elif key == "year_groups":
        for yg in school.year_groups:
            yield {
                "Base Group ID": yg.mis_id,
                "Name": yg.name,
                "NC Year": yg.code,
                "Start Date": d(yg.start),
                "End Date": d(yg.end),
            }
    elif key == "staff":
        for st in school.staff:
            main = {
                "Person ID": st.mis_id,
                "Title": st.title,
                "Forename": st.forename,
                "Surname": st.surname,
                "Gender": st.gender,
                "Staff Code": st.staff_code,
            }
            yield from _cross(main, [_email_rows(st.emails)])
    elif key == "students":
        yield from _students(school, d)
    elif key in ("student_photos", "staff_photos"):
        yield from _photos(key, school)
    elif key in ("classes", "pastoral"):
        yield from _groups(report, school, d)
    elif key == "exam_results":
        by_student: dict[str, list[Row]] = {}
        for r in school.exam_results:
            by_student.setdefault(r.student_mis_id, []).append(
                {
                    "Series": r.series,
                    "Qualification": r.qualification,
                    "Subject": r.subject,
                    "Grade": r.grade,
                    "Result Date": d(r.result_date),
                }
            )
        for student, results in by_student.items():
            yield from _cross({"Person ID": student}, [results])
    else:
        raise KeyError(key)


def _photos(key: str, school: SourceSchool) -> Iterator[Row]:
    # Binary in XML is base64 as .NET writes it (one line, no breaks).
    role = Role.STUDENT if key == "student_photos" else Role.STAFF
    pictures = {
        p.person_mis_id: base64.b64encode(p.data).decode("ascii")
        for p in school.photos
        if p.role is role
    }
    if role is Role.STUDENT:
        for s in school.students:
            yield {
                "Person ID": s.mis_id,
                "Adno": s.admission_number,
                "Photo": pictures.get(s.mis_id),
            }
    else:
        for st in school.staff:
            yield {
                "Person ID": st.mis_id,
                "Staff Code": st.staff_code,
                "Photo": pictures.get(st.mis_id),
            }


def _email_rows(emails: Iterable[Any]) -> list[Row]:
    return [
        {
            "Email Type": e.type,
            "Email Address": e.address,
            "Email Primary": _flag(e.primary),
            "Email Main": _flag(e.main),
        }
        for e in emails
    ]


def _students(school: SourceSchool, d: Any) -> Iterator[Row]:
    for s in school.students:
        main = {
            "Person ID": s.mis_id,
            "Adno": s.admission_number,
            "UPN": s.upn,
            "Legal Forename": s.legal_forename,
            "Legal Surname": s.legal_surname,
            "Preferred Forename": s.preferred_forename,
            "Preferred Surname": s.preferred_surname,
            "Gender": s.gender,
            "Date of Birth": d(s.date_of_birth),
            "Ethnicity": s.ethnicity,
            "EAL": _flag(s.eal),
            "FSM": _flag(s.fsm),
            "Pupil Premium": _flag(s.pupil_premium),
            "Service Child": _flag(s.service_child),
            "Year": _year(s.year_group),
            "Admission Date": d(s.admission_date),
            "Leaving Date": d(s.leaving_date),
        }
        sen = [
            {"SEN Status": x.code, "SEN Start Date": d(x.start), "SEN End Date": d(x.end)}
            for x in s.sen
        ]
        addresses = [
            {
                "Address Type": a.type,
                "Address Block": "\n".join(a.lines) or None,
                "Postcode": a.postcode,
                "Address Start Date": d(a.start),
            }
            for a in s.addresses
        ]
        phones = [
            {
                "Telephone Type": t.type,
                "Telephone Number": t.number,
                "Telephone Primary": _flag(t.primary),
                "Telephone Main": _flag(t.main),
            }
            for t in s.telephones
        ]
        yield from _cross(main, [sen, addresses, phones, _email_rows(s.emails)])


def _groups(report: ReportDef, school: SourceSchool, d: Any) -> Iterator[Row]:
    members: dict[tuple[GroupKind, str], list[SourceMembership]] = {}
    for m in school.memberships:
        members.setdefault((m.group_kind, m.group_mis_id), []).append(m)
    if report.key == "classes":
        for g in school.groups:
            if g.kind is GroupKind.CLASS:
                main = {"Base Group ID": g.mis_id, "Class": g.name, "Subject": g.subject}
                yield from _cross(main, _members(members.get((g.kind, g.mis_id), ()), d))
        return
    listed: list[tuple[str, str | None, GroupKind, str | None]] = [
        (g.mis_id, g.name, g.kind, g.code)
        for g in school.groups
        if g.kind in (GroupKind.REGISTRATION, GroupKind.HOUSE)
    ]
    listed += [(y.mis_id, y.name, GroupKind.YEAR, y.code) for y in school.year_groups]
    for mis_id, name, kind, code in listed:
        main = {
            "Base Group ID": mis_id,
            "Group Name": name,
            "Group Type": GROUP_TYPE_NAMES[kind],
            "Short Name": code,
        }
        yield from _cross(main, _members(members.get((kind, mis_id), ()), d))


def write_report(
    out: IO[bytes],
    rows: Iterable[Mapping[str, object]],
    *,
    drop: frozenset[str] = frozenset(),
    encoding: str = "utf-8",
    declared: str | None = None,
    bom: bool | None = None,
) -> int:
    """Write ``rows`` as SuperStarReport XML in ``encoding`` (characters it lacks as
    character references), declaring ``declared`` (default: ``encoding``), with a byte
    order mark when ``bom`` (default: for UTF-8 and UTF-16, as .NET writes files);
    columns named in ``drop`` are left out. Returns the number of records."""
    names: dict[str, str] = {}
    codec = codecs.lookup(encoding).name
    marks = {"utf-8": codecs.BOM_UTF8, "utf-16": codecs.BOM_UTF16_LE}
    if codec == "utf-16":
        codec = "utf-16-le"  # the mark says which byte order; written once, below
        marks[codec] = codecs.BOM_UTF16_LE
    if bom if bom is not None else codec in marks:
        out.write(marks.get(codec, b""))
    head = f'<?xml version="1.0" encoding="{declared or encoding}"?>\r\n<SuperStarReport>\r\n'
    out.write(head.encode(codec, "xmlcharrefreplace"))
    count = 0
    for row in rows:
        parts = ["  <Record>\r\n"]
        for caption, value in row.items():
            if value is None or value == "" or caption in drop:
                continue
            tag = names.get(caption) or names.setdefault(caption, encode_name(caption))
            parts.append(f"    <{tag}>{escape(str(value))}</{tag}>\r\n")
        parts.append("  </Record>\r\n")
        out.write("".join(parts).encode(codec, "xmlcharrefreplace"))
        count += 1
    out.write("</SuperStarReport>\r\n".encode(codec))
    return count
