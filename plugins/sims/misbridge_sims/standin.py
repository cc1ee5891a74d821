"""``misbridge-commandreporter``: a stand-in for SIMS's CommandReporter.exe.

It takes CommandReporter's switches (as public scripts pass them) and answers like it for a
:class:`~misbridge.source.SourceSchool`: the report's ``SuperStarReport`` XML on stdout
or in the ``/OUTPUT:`` file, or ``<CommandReporterError>`` on stdout for a refused
login, an unknown report, a missing permission or a report error. Accounts outside
"Third Party Reporter" get their ID columns left out, as SIMS does.

Environment:

- ``MISBRIDGE_STANDIN_SCHOOL``: a JSON school from :func:`misbridge.convert.dumps_school`
  (default: ``misbridge.testing.sample_school()``);
- ``MISBRIDGE_STANDIN_CONFIG``: a JSON account configuration (see :class:`Account`);
- ``MISBRIDGE_STANDIN_STATE``: a folder where runs are counted and faults fire in turn;
- ``MISBRIDGE_STANDIN_RENDERED``: a folder of rows the simulator rendered ahead
  (``<report>.<date format>.json``), so that a run need not load the school.

The wording of the error messages is ours: SIMS's is not documented (nor is the inner
structure of ``<CommandReporterError>``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from attrs import field, frozen

from misbridge_sims.render import escape, report_rows, write_report
from misbridge_sims.reports import (
    CONSENT_CAPTION,
    PHOTO_CAPTION,
    REPORTS,
    THIRD_PARTY_REPORTER,
    ReportDef,
)

__all__ = ["Account", "main", "parse_switches"]

SWITCHES = {
    "USER", "PASSWORD", "TRUSTED", "REPORT", "OUTPUT", "QUIET", "SERVERNAME", "DATABASENAME",
    "PARAMS",
}  # fmt: skip


class Refused(Exception):
    """An answer CommandReporter gives as ``<CommandReporterError>``."""


@frozen
class Account:
    """The SIMS side the stand-in pretends to be (all optional in the JSON)."""

    users: Mapping[str, str] = field(factory=lambda: {"misbridge": "misbridge"})
    trusted: bool = True
    groups: Sequence[str] | None = None  # permission groups held; None: all six
    lines: Sequence[str] | None = None  # permission lines held; None: all seven
    reports: Sequence[str] | None = None  # imported report names; None: all
    report_prefix: str = "misbridge "
    denied_style: str = "error"  # "error": refuse the report; "blank": leave columns out
    deny_reports: Mapping[str, str] = field(factory=dict)  # report name -> permission named
    fail_reports: Mapping[str, str] = field(factory=dict)  # report name -> error message
    date_format: str = "iso"
    error_exit_code: int = 1
    latency: float = 0.0
    faults: Sequence[Mapping[str, Any]] = ()
    # Encodings: the XML's bytes, what its declaration says (None: the same), and the
    # code page a redirected console re-encodes stdout into (None: written as is).
    xml_encoding: str = "utf-8"
    declared_encoding: str | None = None
    byte_order_mark: bool | None = None
    console_encoding: str | None = None
    # Photos: whether this SIMS version's report designer offers a Photo field, and the
    # parental consents recorded per pupil (Person ID -> consents; others get
    # ``default_consents``), one row each or, with ``consent_style: list``, in one value.
    photo_column: bool = True
    default_consents: Sequence[str] = ("Internet Access", "Photograph Student")
    consents: Mapping[str, Sequence[str]] = field(factory=dict)
    consent_style: str = "rows"

    @classmethod
    def load(cls, path: str | None) -> Account:
        if not path:
            return cls()
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**data)


def parse_switches(argv: Sequence[str]) -> dict[str, str]:
    """``/NAME:value`` and ``/NAME`` switches, names case-insensitive, quotes stripped."""
    switches: dict[str, str] = {}
    for arg in argv:
        if not arg.startswith(("/", "-")):
            raise Refused(f"Unexpected argument {arg[:40]!r}. Switches start with '/'.")
        name, _, value = arg[1:].partition(":")
        name = name.upper()
        if name not in SWITCHES:
            raise Refused(f"Unknown switch /{name[:20]}.")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        switches[name] = value
    return switches


def _next_number(folder: Path, prefix: str) -> int:
    """An atomic counter across concurrent runs: the first free ``prefix.N`` file."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:
        try:
            os.close(os.open(folder / f"{prefix}.{n}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return n
        except FileExistsError:
            n += 1


def _login(switches: Mapping[str, str], account: Account) -> None:
    if "TRUSTED" in switches:
        if not account.trusted:
            raise Refused(
                "Login failed: this Windows user is not linked to a SIMS user (trusted login)."
            )
        return
    user = switches.get("USER", "")
    if not user or account.users.get(user) != switches.get("PASSWORD"):
        raise Refused(
            f"Login failed for user '{user[:40]}': the user name or password is incorrect."
        )


def _check_params(raw: str | None) -> None:
    if raw is None:
        return
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(raw, forbid_dtd=True)
        text = root.findtext("./Parameter/Values/Date") or ""
        time.strptime(text, "%d/%m/%Y %H:%M:%S")
    except Exception:
        raise Refused("The report parameters (/PARAMS) could not be read.") from None


def _find_report(name: str, account: Account) -> ReportDef:
    imported = account.reports
    for report in REPORTS:
        if report.name(account.report_prefix) == name and (imported is None or name in imported):
            return report
    raise Refused(f"Report '{name[:100]}' not found. Import it with CommandReportImporter.")


def _permissions(report: ReportDef, name: str, account: Account) -> frozenset[str]:
    """Check the account may run the report; return the columns to leave out."""
    if name in account.deny_reports:
        raise Refused(
            f"You do not have permission to run report '{name}'. "
            f"Missing permission: {account.deny_reports[name]}."
        )
    held = {*(account.groups if account.groups is not None else _all_groups())}
    held |= set(account.lines if account.lines is not None else _all_lines())
    missing = [p for p in report.requires if p not in held and p != THIRD_PARTY_REPORTER]
    column_areas = report.permission_columns()
    refused = [p for p in missing if account.denied_style != "blank" or p not in column_areas]
    if refused:
        raise Refused(
            f"You do not have permission to run report '{name}'. "
            f"Missing permission: {'; '.join(refused)}."
        )
    drop = {c for p in missing for c in column_areas.get(p, ())}
    if THIRD_PARTY_REPORTER not in held:
        drop |= set(report.id_captions())
    return frozenset(drop)


def _all_groups() -> tuple[str, ...]:
    from misbridge_sims.reports import PERMISSION_GROUPS

    return PERMISSION_GROUPS


def _all_lines() -> tuple[str, ...]:
    from misbridge_sims.reports import ALL_PERMISSION_LINES

    return ALL_PERMISSION_LINES


def _load_school() -> Any:
    path = os.environ.get("MISBRIDGE_STANDIN_SCHOOL")
    if path:
        from misbridge.plugin import loads_school

        return loads_school(Path(path).read_bytes())
    from misbridge.plugin import sample_school

    return sample_school()


def _rows(report: ReportDef, date_format: str) -> Any:
    """The report's rows: pre-rendered by the simulator when it can, else rendered now."""
    rendered = os.environ.get("MISBRIDGE_STANDIN_RENDERED")
    if rendered:
        cached = Path(rendered) / f"{report.key}.{date_format}.json"
        if cached.is_file():
            return json.loads(cached.read_bytes())
    return report_rows(report, _load_school(), date_format)


def _fault(name: str, account: Account, state: Path | None) -> Mapping[str, Any] | None:
    for index, fault in enumerate(account.faults):
        if fault.get("match", "") not in name:
            continue
        seen = _next_number(state, f"fault{index}") if state else 0
        skip, times = int(fault.get("skip", 0)), int(fault.get("times", 1))
        if skip <= seen < skip + times:
            return fault
    return None


def run(argv: Sequence[str], stdout: IO[bytes]) -> int:
    account = Account.load(os.environ.get("MISBRIDGE_STANDIN_CONFIG"))
    state_dir = os.environ.get("MISBRIDGE_STANDIN_STATE")
    state = Path(state_dir) if state_dir else None
    run_number = _next_number(state / "runs", "run") if state is not None else 0
    if account.latency:
        time.sleep(account.latency)
    try:
        switches = parse_switches(argv)
        if state is not None:  # which switches, never their values (the password)
            (state / "runs" / f"run.{run_number}").write_text(" ".join(sorted(switches)))
        _login(switches, account)
        name = switches.get("REPORT")
        if not name:
            raise Refused("No report name given (/REPORT:).")
        report = _find_report(name, account)
        _check_params(switches.get("PARAMS"))
        drop = _permissions(report, name, account)
        if name in account.fail_reports:
            raise Refused(account.fail_reports[name])
        fault = _fault(name, account, state)
        if fault is not None and fault.get("kind") == "status":
            raise Refused(
                f"An error occurred running report '{name}': the server returned an error."
            )
        if fault is not None and fault.get("kind") == "delay":
            time.sleep(float(fault.get("seconds", 0)))
        rows = _rows(report, account.date_format)
        if report.key == "student_photos":
            rows = _with_consents(rows, account)
        if not account.photo_column:
            drop |= {PHOTO_CAPTION}
        target = switches.get("OUTPUT")
        if target:
            with open(target, "wb") as out:
                _write(out, rows, drop, fault, account)
        elif account.console_encoding:
            _write_console(stdout, rows, drop, fault, account)
        else:
            _write(stdout, rows, drop, fault, account)
        return 0
    except Refused as refused:
        stdout.write(
            b"<CommandReporterError>"
            + escape(str(refused)).encode("utf-8")
            + b"</CommandReporterError>\r\n"
        )
        return account.error_exit_code


def _with_consents(rows: Any, account: Account) -> Any:
    """The consent record set: one row per consent (SIMS's cross product) or one list."""
    for row in rows:
        given = account.consents.get(row["Person ID"], account.default_consents)
        if account.consent_style == "list":
            yield {**row, CONSENT_CAPTION: ", ".join(given) or None}
            continue
        for consent in given or [""]:
            yield {**row, CONSENT_CAPTION: consent or None}


def _write(
    out: IO[bytes],
    rows: Any,
    drop: frozenset[str],
    fault: Mapping[str, Any] | None,
    account: Account,
) -> None:
    if fault is not None and fault.get("kind") == "html":
        out.write(b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>")
        return
    encodings: dict[str, Any] = {
        "encoding": account.xml_encoding,
        "declared": account.declared_encoding,
        "bom": account.byte_order_mark,
    }
    if fault is not None and fault.get("kind") == "truncate":
        import io

        buffer = io.BytesIO()
        write_report(buffer, rows, drop=drop, **encodings)
        data = buffer.getvalue()
        out.write(data[: len(data) // 2])
        return
    write_report(out, rows, drop=drop, **encodings)


def _write_console(
    out: IO[bytes],
    rows: Any,
    drop: frozenset[str],
    fault: Mapping[str, Any] | None,
    account: Account,
) -> None:
    """What a Windows console program's redirected output holds: the XML's text in the
    console's code page (a character it lacks becomes '?'), declaration unchanged."""
    import io

    buffer = io.BytesIO()
    _write(buffer, rows, drop, fault, account)
    text = buffer.getvalue().decode(account.xml_encoding).lstrip("\ufeff")
    out.write(text.encode(str(account.console_encoding), "replace"))


def main(argv: Sequence[str] | None = None) -> None:
    code = run(list(sys.argv[1:] if argv is None else argv), sys.stdout.buffer)
    sys.stdout.flush()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
