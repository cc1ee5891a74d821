"""The stable error codes: one table that the normaliser, the validator, the store, the
reports and ``docs/error-codes.md`` share (a test keeps the doc in step with this table).
It sits below all of them, so that none imports another's.

Scheme: ``MB`` + four digits; the first digit is the area.

- 1xxx identifiers (the 15xx UPN codes follow the DfE census numbers 1500/1510/1520)
- 2xxx names and other required values
- 3xxx dates
- 4xxx codes and flags (gender, ethnicity, SEN, year group)
- 5xxx contact details
- 6xxx groups, photos, exam results and assessments
- 7xxx exports: what a standard format (OneRoster, SDS) requires and a record lacks
- 8xxx processing: found when the target store applies a record (stage ``processing``)

Severity: ``error`` means the record is not imported (it cannot be used safely as it
is: a required value is missing, an identifier is wrong, a documented model invariant
is broken); ``warning`` means it is imported and the data manager should look (a value
was left out or looks wrong but does not stop the pupil being on roll).

Message templates name the MIS (``{mis}``) and the record (``{label}``: admission number,
else staff code, else MIS id) and say what to do. They never carry a personal value.
"""

from __future__ import annotations

from attrs import frozen

from misbridge.errors import RecordError, Severity, Stage
from misbridge.labels import record_identity

__all__ = [
    "CODES",
    "ErrorCode",
    "make_error",
    "markdown_table",
    "mis_title",
    "record_error",
    "register_title",
]


@frozen
class ErrorCode:
    code: str
    field: str
    meaning: str
    action: str
    template: str
    severity: Severity = Severity.ERROR
    stage: Stage = Stage.ON_SITE


_E, _W = Severity.ERROR, Severity.WARNING

_TABLE: tuple[ErrorCode, ...] = (
    ErrorCode(
        "MB1001",
        "mis_id",
        "The record has no MIS id, so it cannot be matched between runs.",
        "Report it to the plugin's maintainers: every MIS record has an id.",
        "A {what} from {mis} has no MIS id: it was skipped; report this to the plugin's "
        "maintainers",
    ),
    ErrorCode(
        "MB1010",
        "mis_id",
        "Two records of one dataset in one extract share an MIS id.",
        "Check the MIS for duplicated records; only the first is kept.",
        "The MIS id of {label} appears more than once in this {mis} extract: only the first "
        "was kept; check {mis} for duplicated records",
    ),
    ErrorCode(
        "MB1500",
        "upn",
        "No UPN, and the chosen profile requires one.",
        "Add the pupil's UPN (or a temporary UPN) in the MIS.",
        "No UPN in {mis} for {label}: add it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB1505",
        "upn",
        "The UPN is not a letter followed by 11 digits and a final digit or letter "
        "(13 characters).",
        "Correct the UPN in the MIS; copy it from the pupil's CTF or previous school.",
        "The UPN in {mis} for {label} is not 13 characters in the UPN format: correct it in "
        "{mis}, it will sync next run",
    ),
    ErrorCode(
        "MB1510",
        "upn",
        "The UPN's check letter does not match its digits (DfE mod-23 rule).",
        "A character was mistyped: correct the UPN in the MIS from the CTF.",
        "The UPN in {mis} for {label} has the wrong check letter (a mistyped character?): "
        "correct it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB1520",
        "upn",
        "Two pupils in one extract share a UPN.",
        "Find both pupils in the MIS and correct the wrong UPN.",
        "The UPN of {label} is also used by {other} in {mis}: correct the wrong one in {mis}",
    ),
    ErrorCode(
        "MB2001",
        "forename",
        "No forename.",
        "Add the forename in the MIS.",
        "No forename in {mis} for {label}: add it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB2002",
        "surname",
        "No surname.",
        "Add the surname in the MIS.",
        "No surname in {mis} for {label}: add it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB2003",
        "name",
        "A year, year group, group or exam result has no name (or subject, grade...).",
        "Fill in the missing value in the MIS.",
        "No {what} in {mis} for {label}: add it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB2004",
        "date_of_birth",
        "No date of birth (or one that could not be read, see MB3001), and the profile "
        "requires one.",
        "Add or correct the date of birth in the MIS.",
        "No readable date of birth in {mis} for {label}: add it in {mis}, it will sync next run",
    ),
    ErrorCode(
        "MB3001",
        "(the date field)",
        "A date could not be read in any MIS date format; the field was left out.",
        "Correct the date in the MIS; if it looks right there, report the format to us.",
        "The {what} in {mis} for {label} could not be read as a date: it was left out; "
        "correct it in {mis}",
        _W,
    ),
    ErrorCode(
        "MB3002",
        "(the date field)",
        "A date the record cannot do without is missing or unreadable; the record was skipped.",
        "Fill in or correct the date in the MIS.",
        "The {what} in {mis} for {label} is missing or unreadable: the record was skipped; "
        "correct it in {mis}",
    ),
    ErrorCode(
        "MB3010",
        "date_of_birth",
        "The date of birth gives an age outside the plausible range for a pupil (2 to 25 by "
        "default).",
        "Check the date of birth in the MIS (day and month swapped? wrong century?).",
        "The date of birth in {mis} for {label} gives an age outside {low} to {high}: check it "
        "in {mis}",
        _W,
    ),
    ErrorCode(
        "MB3020",
        "(the start field)",
        "A date range ends before it starts.",
        "Correct the start or end date in the MIS.",
        "The {what} in {mis} for {label} ends before it starts: correct the dates in {mis}",
    ),
    ErrorCode(
        "MB4001",
        "gender",
        "The gender is not one of the configured genders; it was left out, not guessed.",
        "Use one of the configured genders in the MIS, or add it to the configured genders.",
        "The gender in {mis} for {label} is not one of the configured genders: it was left "
        "out; correct it in {mis} or add it to the genders of [normalise] in misbridge.toml",
        _W,
    ),
    ErrorCode(
        "MB4010",
        "ethnicity",
        "The ethnicity is not a DfE main or extended ethnicity code.",
        "Choose a DfE ethnicity code in the MIS (REFU if refused, NOBT if not obtained).",
        "The ethnicity in {mis} for {label} is not a DfE ethnicity code: choose one in {mis} "
        "(REFU if the family refused, NOBT if not yet obtained)",
        _W,
    ),
    ErrorCode(
        "MB4020",
        "sen",
        "An SEN provision is not E (EHC plan), K (SEN support) or N (no SEN).",
        "Correct the SEN provision in the MIS.",
        "An SEN provision in {mis} for {label} is not E, K or N: correct it in {mis}",
    ),
    ErrorCode(
        "MB4021",
        "sen",
        "An SEN provision entry has no code; it was left out.",
        "Fill in the SEN provision (E, K or N) in the MIS, or remove the empty entry.",
        "An SEN provision in {mis} for {label} has no code: it was left out; fill it in {mis}",
        _W,
    ),
    ErrorCode(
        "MB4030",
        "year_group",
        "The year group is not a National Curriculum year (R, 1 to 13, N1, N2); it was left out.",
        "Set the pupil's NC year in the MIS.",
        "The year group in {mis} for {label} is not an NC year: it was left out; set it in {mis}",
        _W,
    ),
    ErrorCode(
        "MB4040",
        "(the flag field)",
        "A yes/no flag (EAL, FSM, pupil premium, service child) could not be read; it was "
        "left out.",
        "Correct the flag in the MIS; if it looks right there, report the format to us.",
        "The {what} flag in {mis} for {label} is not yes or no: it was left out; correct it "
        "in {mis}",
        _W,
    ),
    ErrorCode(
        "MB5001",
        "email",
        "No email address, and the profile requires at least one (account sync).",
        "Add an email address in the MIS and mark it Primary.",
        "No email address in {mis} for {label}: add one in {mis} and mark it Primary, it will "
        "sync next run",
    ),
    ErrorCode(
        "MB5010",
        "(the email field)",
        "An email address does not have the form name@domain.",
        "Correct the email address in the MIS.",
        "The {what} in {mis} for {label} is not a valid email address: correct it in {mis}",
        _W,
    ),
    ErrorCode(
        "MB6001",
        "media_type",
        "A photo is empty or not a JPEG, PNG or GIF image; it was skipped.",
        "Replace the photo in the MIS.",
        "The photo in {mis} for {label} is empty or not a JPEG, PNG or GIF image: it was "
        "skipped; replace it in {mis}",
    ),
    ErrorCode(
        "MB6020",
        "result",
        "A pupil has two values for one aspect, grade type and term in one extract (a "
        "marksheet column repeated, or two marksheets overlapping); only the first is kept.",
        "Remove the repeated column or marksheet, or give each its own term, and export again.",
        "{label} has more than one value for the aspect {aspect!r} in this {mis} extract: only "
        "the first was kept; remove the repeated column or marksheet and export again",
    ),
    # -- exports (misbridge.export): MB7xxx ---------------------------------------------
    # Found when a standard format takes a record from the store or an extract (stage
    # processing); ``{format}`` names the format ("OneRoster 1.2", "SDS v2.1").
    ErrorCode(
        "MB7001",
        "username",
        "A person has neither a username nor an email address, and the export format "
        "requires a username; they were not exported.",
        "Add an email address (or, for a pupil, an admission number) in the MIS.",
        "{label} from {mis} has neither a username nor an email address, which {format} "
        "requires: not exported; add an email address in {mis}",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7002",
        "work_email",
        "A person has no work (school) email address, which School Data Sync uses as the "
        "sign-in name; they were not exported.",
        "Record the school email address in the MIS as the Work email.",
        "{label} from {mis} has no work (school) email address, which {format} uses as the "
        "sign-in name: not exported; add it in {mis} as the Work email",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7003",
        "(the name field)",
        "A person has no forename or no surname (or a class no name), which the export "
        "format requires; the record was not exported.",
        "Add the missing name in the MIS.",
        "{label} from {mis} has no {what}, which {format} requires: not exported; add it in {mis}",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7010",
        "role",
        "A member of staff teaches no class or registration group, and OneRoster has no role "
        "for other staff; they were not exported rather than given a teacher's access.",
        "Nothing to fix if they do not teach; if they do, add their classes in the MIS.",
        "{label} from {mis} teaches no class or registration group, and {format} has no role "
        "for other staff: not exported; if they teach, add their classes in {mis}",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7020",
        "academic_session",
        "No membership of a class or registration group falls in an academic year the "
        "export holds, and OneRoster requires every class to have its academic session; "
        "the class and its enrolments were not exported.",
        "Extract the academic years too (for an MIS that sends none, such as Wonde, name the "
        "year with --academic-year), or check the class's membership dates in the MIS.",
        "{label} from {mis} has no membership within an academic year held, and {format} "
        "requires its academic session: not exported with its enrolments; extract the "
        "academic years too (for an MIS that sends none, name the year with "
        "--academic-year), or check its membership dates in {mis}",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7021",
        "subject",
        "A class has no subject, and its course is made from its subject; the class and its "
        "enrolments were not exported.",
        "Set the class's subject in the MIS.",
        "{label} from {mis} has no subject, and {format} needs the course it belongs to: not "
        "exported with its enrolments; set its subject in {mis}",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7030",
        "(a text field)",
        "A value holds a line break or another control character, which the export format "
        "does not allow; each one was replaced by a space.",
        "Retype the value in the MIS.",
        "A {what} of {label} from {mis} holds a line break or control character, which "
        "{format} does not allow: each was replaced by a space; retype the value in {mis}",
        Severity.WARNING,
        Stage.PROCESSING,
    ),
    ErrorCode(
        "MB7040",
        "year_group",
        "The year group is not one the export format has a grade for; the grade was left blank.",
        "Set the pupil's NC year in the MIS.",
        "The year group of {label} from {mis} has no {format} grade: the grade was left "
        "blank; set the NC year in {mis}",
        Severity.WARNING,
        Stage.PROCESSING,
    ),
    # -- end of exports -----------------------------------------------------------------
    ErrorCode(
        "MB8001",
        "username",
        "The username is already used by another account in the target.",
        "Change the admission number, directory username or email in the MIS, or free the "
        "username in the target.",
        "The username of {label} from {mis} is already in use: the record was not imported; "
        "change it in {mis} or free it in the target",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB8002",
        "mis_id",
        "A record with a new MIS id matches several records already in the store by its "
        "natural key, so the store cannot tell which one it is.",
        "Make the records distinguishable in the MIS (UPN, date of birth, work email), "
        "then sync again.",
        "{label} from {mis} matches {count} records already in the store by {key}: it was "
        "not imported rather than guessed; make them distinguishable in {mis} and sync again",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB8003",
        "(a reference)",
        "A membership, photo or exam result points at a person or group the store does not hold.",
        "Extract the person or group too (or fix its record in the MIS), then sync again.",
        "{label} from {mis} points at a {what} the store does not hold: it was not "
        "imported; extract that {what} too and sync again",
        stage=Stage.PROCESSING,
    ),
    ErrorCode(
        "MB8004",
        "(a text field)",
        "A value holds a NUL character (code 0), which databases cannot store.",
        "Retype the value in the MIS (it was probably pasted from another program).",
        "A value of {label} from {mis} holds an invisible NUL character that cannot be "
        "stored: the record was not imported; retype the value in {mis}",
        stage=Stage.PROCESSING,
    ),
)

CODES: dict[str, ErrorCode] = {c.code: c for c in _TABLE}

#: Each loaded MIS plugin's ``MisInfo.title`` by MIS name, filled as the plugin manager
#: reads the plugins (:func:`register_title`): the core knows no MIS by name.
_TITLES: dict[str, str] = {}


def register_title(mis: str, title: str) -> None:
    """Record how people name ``mis`` (its ``MisInfo.title``), for messages and reports."""
    _TITLES[mis.lower()] = title


_installed_read = False


def mis_title(mis: str | None) -> str:
    """How a data manager names the MIS: its plugin's ``MisInfo.title`` ("SIMS", not
    "sims"), else the name as given. A name not yet seen has the installed plugins read
    once (a store export in a process that never loaded them)."""
    global _installed_read
    if not mis:
        return "the MIS"
    key = mis.lower()
    if key not in _TITLES and not _installed_read:
        _installed_read = True
        from misbridge.plugins import get_plugin_manager

        get_plugin_manager()
    return _TITLES.get(key, mis)


def record_error(
    code: str,
    record: object,
    *,
    dataset: str,
    mis: str | None,
    title: str | None = None,
    field: str | None = None,
    severity: Severity | None = None,
    **details: object,
) -> RecordError:
    """:func:`make_error` for ``record``, named by its identifiers
    (:func:`~misbridge.labels.record_identity`)."""
    mis_id, label = record_identity(record)
    return make_error(
        code,
        dataset=dataset,
        mis=mis,
        mis_id=mis_id,
        label=label,
        field=field,
        title=title,
        severity=severity,
        **details,
    )


def make_error(
    code: str,
    *,
    dataset: str,
    mis: str | None,
    mis_id: str | None,
    label: str,
    field: str | None = None,
    title: str | None = None,
    severity: Severity | None = None,
    **details: object,
) -> RecordError:
    """Build the :class:`RecordError` for ``code``, its message from the code's template.

    ``details`` fill the template's other slots (``what``, ``other``...); callers pass
    only identifiers and field descriptions there, never personal values.
    """
    spec = CODES[code]
    message = spec.template.format(mis=title or mis_title(mis), label=label, **details)
    return RecordError(
        dataset=str(dataset),
        mis_id=mis_id,
        field=field if field is not None else spec.field,
        code=code,
        message=message[:1].upper() + message[1:],
        stage=spec.stage,
        severity=severity or spec.severity,
        record_label=label,
        mis=mis,
    )


def markdown_table() -> str:
    """The code table as it appears in ``docs/error-codes.md`` (a test keeps them equal)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "| Code | Field | Severity | Stage | Meaning | What the data manager should do |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in _TABLE:
        lines.append(
            f"| {c.code} | `{cell(c.field)}` | {c.severity.value} | {c.stage.value} | "
            f"{cell(c.meaning)} | {cell(c.action)} |"
        )
    return "\n".join(lines) + "\n"
