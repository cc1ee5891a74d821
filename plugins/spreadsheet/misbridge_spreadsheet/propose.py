"""``misbridge spreadsheet map FILE``: a column mapping proposed from a file's headers.

Each header is compared (case and spacing aside) with the headers the built-in mappings
use and the usual spellings of each field; the record type that explains most headers
wins, unless one is given. A marksheet is recognised by headers ending in a grade word
("Maths Working At"). The proposal is TOML for a person to review: every header it
could not place is listed, and a required field it could not find is left as a comment,
so that the mapping refuses to load until someone names it.
"""

from __future__ import annotations

import json
from pathlib import Path

from misbridge.plugin import Secret, SourceFormatError
from misbridge_spreadsheet.csvfile import csv_rows
from misbridge_spreadsheet.files import WORKBOOK_SUFFIXES
from misbridge_spreadsheet.mapping import BUILTIN, REQUIRED, Column, load_mapping
from misbridge_spreadsheet.settings import Limits
from misbridge_spreadsheet.table import header_key
from misbridge_spreadsheet.xlsx import decrypt, is_encrypted, open_workbook, worksheet_rows

__all__ = ["GRADE_WORDS", "propose", "read_header"]

GRADE_WORDS = ("Working At", "Predicted", "Expected", "Target", "Current", "Forecast")

#: Usual spellings beyond the built-in mappings' own headers: (record, field) -> headers.
_SPELLINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("student", "mis_id"): ("Student ID", "Pupil ID", "Person ID", "ID", "studentId"),
    ("student", "admission_number"): ("Adno", "Admission No", "Admission Number", "Adm No"),
    ("student", "upn"): ("UPN", "Unique Pupil Number"),
    ("student", "legal_forename"): ("Forename", "First Name", "Legal Forename", "Given Name"),
    ("student", "legal_surname"): ("Surname", "Last Name", "Legal Surname", "Family Name"),
    ("student", "preferred_forename"): (
        "Preferred Forename",
        "Preferred First Name",
        "Chosen Name",
    ),
    ("student", "preferred_surname"): ("Preferred Surname", "Preferred Last Name"),
    ("student", "gender"): ("Gender", "Sex"),
    ("student", "date_of_birth"): ("Date of Birth", "DOB", "Birth Date"),
    ("student", "ethnicity"): ("Ethnicity", "Ethnicity Code", "Ethnic Code"),
    ("student", "eal"): ("EAL", "English as an Additional Language"),
    ("student", "fsm"): ("FSM", "FSM Eligible", "Free School Meals"),
    ("student", "pupil_premium"): ("Pupil Premium", "PP"),
    ("student", "service_child"): ("Service Child", "Service Children"),
    ("student", "year_group"): ("Year", "Year Group", "NC Year", "Curriculum Year"),
    ("student", "admission_date"): ("Admission Date", "Date of Admission", "Start Date"),
    ("student", "leaving_date"): ("Leaving Date", "Date of Leaving", "End Date"),
    ("staff", "mis_id"): ("Staff ID", "Person ID", "Employee ID", "ID"),
    ("staff", "title"): ("Title",),
    ("staff", "forename"): ("Forename", "First Name", "Legal Forename"),
    ("staff", "surname"): ("Surname", "Last Name", "Legal Surname"),
    ("staff", "gender"): ("Gender", "Sex"),
    ("staff", "staff_code"): ("Staff Code", "Initials", "Teacher Code"),
    ("group", "mis_id"): ("Group ID", "Class ID", "Base Group ID", "ID"),
    ("group", "name"): ("Group Name", "Class", "Class Name", "Name"),
    ("group", "subject"): ("Subject",),
    ("group", "code"): ("Short Name", "Code"),
    ("membership", "group_mis_id"): ("Group ID", "Class ID", "Base Group ID"),
    ("membership", "person_mis_id"): ("Person ID", "Student ID", "Pupil ID"),
    ("membership", "group_name"): ("Class", "Class Name", "Group Name"),
    ("membership", "group_subject"): ("Subject",),
    ("membership", "start"): ("Start Date",),
    ("membership", "end"): ("End Date",),
    ("marksheet", "student"): ("Student ID", "Person ID", "UPN", "Adno", "Admission Number"),
    ("marksheet", "term"): ("Term", "Result Set"),
}
# Flat contact columns: header -> (group, field, constant type).
_CONTACTS = {
    "email": ("emails", "address", "H"),
    "email address": ("emails", "address", "H"),
    "home email": ("emails", "address", "H"),
    "work email": ("emails", "address", "W"),
    "school email": ("emails", "address", "W"),
    "mobile": ("telephones", "number", "M"),
    "mobile telephone": ("telephones", "number", "M"),
    "home telephone": ("telephones", "number", "H"),
    "telephone": ("telephones", "number", "H"),
    "postcode": ("addresses", "postcode", "H"),
    "address": ("addresses", "lines", "H"),
    "address block": ("addresses", "lines", "H"),
}


def read_header(
    path: Path,
    *,
    sheet: str | None = None,
    encoding: str = "utf-8",
    password: str | None = None,
) -> list[str]:
    """The first row of ``path`` (a CSV, or a worksheet of an XLSX), read safely."""
    limits = Limits()
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        plain = None
        if is_encrypted(path):
            plain = decrypt(path, Secret(password) if password else None, limits)
        book, handle = open_workbook(path, plain=plain, limits=limits, formulas="cached")
        try:
            rows = worksheet_rows(book, sheet, path.name, limits)
            first = next(rows, [])
        finally:
            book.close()
            handle.close()
    else:
        first = next(csv_rows(path, encoding=encoding, delimiter=None, limits=limits), [])
    header = [(c or "").strip() for c in first]
    if not any(header):
        raise SourceFormatError(
            f"spreadsheet: {path.name} has no header row (its first row is empty)"
        )
    return header


def _vocabulary() -> dict[tuple[str, str], set[str]]:
    words: dict[tuple[str, str], set[str]] = {
        k: {header_key(s) for s in v} for k, v in _SPELLINGS.items()
    }
    for name in BUILTIN:
        for s in load_mapping(name).sheets:
            for field, spec in s.columns.items():
                if isinstance(spec, Column):
                    words.setdefault((s.record, field), set()).add(header_key(spec.name))
    return words


def _grade_column(header: str) -> bool:
    key = header_key(header)
    return any(key.endswith(header_key(w)) for w in GRADE_WORDS)


def _match(
    record: str, header: list[str], words: dict[tuple[str, str], set[str]]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for field_key, spellings in words.items():
        if field_key[0] != record:
            continue
        for h in header:
            if h and header_key(h) in spellings and h not in found.values():
                found.setdefault(field_key[1], h)
                break
    return found


def propose(
    path: Path,
    *,
    sheet: str | None = None,
    record: str = "auto",
    encoding: str = "utf-8",
    password: str | None = None,
) -> str:
    """The proposed mapping for one file, as TOML text."""
    header = read_header(path, sheet=sheet, encoding=encoding, password=password)
    words = _vocabulary()
    grades = [h for h in header if h and _grade_column(h)]
    if record == "auto":
        scores = {
            r: len(_match(r, header, words)) for r in ("student", "staff", "group", "membership")
        }
        record = max(scores, key=lambda r: scores[r])
        if len(grades) >= 2 and len(grades) * 2 >= len([h for h in header if h]) - 3:
            record = "marksheet"
    fields = _match(record, header, words)
    used = set(fields.values())
    lines = [
        f"# Proposed by 'misbridge spreadsheet map' from {json.dumps(path.name)}: check every",
        "# line against the file before you use it (--mapping this-file.toml).",
        "",
        "[mapping]",
        f"title = {json.dumps(path.stem + ' export')}",
        f"source = {json.dumps(f'headers of {path.name}, matched by misbridge spreadsheet map')}",
        "",
        "[[sheets]]",
        f'record = "{record}"',
        f"file = {json.dumps(path.stem)}",
    ]
    if sheet:
        lines.append(f"sheet = {json.dumps(sheet)}")
    if record == "marksheet":
        lines += ['other_columns = "aspects"', f"grade_words = {json.dumps(list(GRADE_WORDS))}"]
        key = header_key(fields.get("student", ""))
        if key in ("upn", "unique pupil number"):
            lines.append('student_key = "upn"')
        elif key in ("adno", "admission number", "admission no"):
            lines.append('student_key = "admission_number"')
        others = [h for h in header if h and h not in used and not _grade_column(h)]
        if others:
            lines.append(f"ignore = {json.dumps(others)}  # not grades: check none is one")
    lines.append("[sheets.columns]")
    for field in REQUIRED[record]:
        if field not in fields:
            lines.append(f'# {field} = "?"  # required: no header looked like it; name the column')
    lines += [f"{f} = {json.dumps(h)}" for f, h in fields.items()]
    contacts: list[str] = []
    if record in ("student", "staff"):
        for h in header:
            spec = _CONTACTS.get(header_key(h)) if h and h not in used else None
            if spec is None or (record == "staff" and spec[0] != "emails"):
                continue
            group, field, kind = spec
            kind = "W" if record == "staff" else kind
            contacts += ["", f"[[sheets.{group}]]", f'type = {{ value = "{kind}" }}']
            contacts.append(f"{field} = {json.dumps(h)}")
            used.add(h)
    lines += contacts
    rest = [h for h in header if h and h not in used] if record != "marksheet" else []
    if rest:
        lines += ["", "# Headers left unmapped: " + ", ".join(json.dumps(h) for h in rest)]
    return "\n".join(lines) + "\n"
