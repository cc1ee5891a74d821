"""``misbridge export ...``: standard roster exports, added by this default plugin.

``oneroster [--version 1.2|1.1]`` and ``sds`` write, into ``--out DIR``, the format's CSV
files, a zip of them for upload, and the report of every record left out (errors.csv,
report.html). The roster comes from the store (``--store URL`` or ``$MISBRIDGE_STORE``,
the default) or from an extract folder (``--extract DIR``). The school's name (and, for
OneRoster, its URN or LAESTAB) comes from options, as the store does not hold them; so
does the academic year when the roster holds none (``--academic-year``: Wonde sends
none). Exit codes: 0 written (records left out are reported, not fatal), 1 error, 2 a
wrong option.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from misbridge.errors import Severity
from misbridge.hookspecs import hookimpl

if TYPE_CHECKING:
    from misbridge.export.roster import Roster
    from misbridge.export.run import ExportResult

__all__ = ["export_group", "register_commands"]

F = TypeVar("F", bound=Callable[..., Any])
_IDENTIFIER = re.compile(r"\d{6,7}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(export_group)


def _common(func: F) -> F:
    options = [
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            required=True,
            help="Folder to write the files, the zip and the report into.",
        ),
        click.option(
            "--org-name",
            envvar="MISBRIDGE_ORG_NAME",
            required=True,
            help="The school's name, as the org of the export ($MISBRIDGE_ORG_NAME).",
        ),
        click.option(
            "--store",
            "store_url",
            envvar="MISBRIDGE_STORE",
            default=None,
            help="Store URL (default sqlite:///misbridge.db; also $MISBRIDGE_STORE).",
        ),
        click.option(
            "--extract",
            "extract_dir",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Export this extract folder instead of the store.",
        ),
        click.option(
            "--profile",
            type=click.Choice(["roster", "account-sync"]),
            default="roster",
            show_default=True,
            help="Validation profile: demographics (birth date, sex) only with 'roster'.",
        ),
        click.option(
            "--academic-year",
            "academic_year",
            metavar="START:END",
            callback=_academic_year,
            help="The academic year (first and last day, YYYY-MM-DD:YYYY-MM-DD), used only "
            "when the roster holds none (Wonde sends none).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _academic_year(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[date, date] | None:
    if value is None:
        return None
    try:
        start, end = (date.fromisoformat(part.strip()) for part in value.split(":"))
    except ValueError:
        raise click.BadParameter(
            "give the first and last day as YYYY-MM-DD:YYYY-MM-DD, e.g. 2026-09-01:2027-07-31"
        ) from None
    if not start < end:
        raise click.BadParameter(f"the academic year {start} to {end} ends before it starts")
    return start, end


@click.group("export")
def export_group() -> None:
    """Standard roster exports: OneRoster CSV (1.2, 1.1) and School Data Sync v2.1."""


def _org_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise click.BadParameter("give the school's name", param_hint="--org-name")
    return name


def _roster(
    ctx: click.Context,
    store_url: str | None,
    extract_dir: Path | None,
    academic_year: tuple[date, date] | None,
) -> Roster:
    roster = _read(ctx, store_url, extract_dir)
    if academic_year is None:
        return roster
    if roster.sessions:
        # On standard error: standard output may be carrying --json.
        click.echo(
            f"Note: the roster holds {len(roster.sessions)} academic years: --academic-year "
            "was not needed and is not used.",
            err=True,
        )
        return roster
    return roster.with_academic_year(*academic_year)


def _read(ctx: click.Context, store_url: str | None, extract_dir: Path | None) -> Roster:
    from misbridge.errors import MisbridgeError

    source = ctx.get_parameter_source("store_url")
    if extract_dir is not None and source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("export either --store or --extract, not both")
    try:
        if extract_dir is not None:
            from misbridge.export.from_extract import roster_from_extract_folder

            if not (extract_dir / "summary.json").is_file():
                raise click.ClickException(
                    f"{extract_dir} is not an extract folder (no summary.json): write one "
                    "with misbridge <mis> extract --out DIR"
                )
            return roster_from_extract_folder(extract_dir)
        from misbridge.export.from_store import roster_from_store
        from misbridge.store import open_store

        with open_store(store_url) as store:
            return roster_from_store(store)
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"cannot read the extract in {extract_dir}: {exc}") from None


def _report(ctx: click.Context, result: ExportResult, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.summary, indent=2, ensure_ascii=False))
        return
    from misbridge.cli_kit import state

    console = state(ctx).console
    counts = ", ".join(f"{name.removesuffix('.csv')} {n}" for name, n in result.files.items())
    # soft_wrap: a path broken over two lines could not be copied.
    console.print(f"Wrote {result.format} to {result.zip_path} ({counts}).", soft_wrap=True)
    warnings = sum(1 for e in result.errors if e.severity is Severity.WARNING)
    if result.errors:
        console.print(
            f"[yellow]{result.left_out} records left out, {warnings} warnings[/]: see "
            f"{result.zip_path.parent / 'report.html'} (and errors.csv).",
            soft_wrap=True,
        )
    else:
        console.print("Every record was exported.")


@export_group.command("oneroster")
@click.option(
    "--version",
    "version",
    type=click.Choice(["1.2", "1.1"]),
    default="1.2",
    show_default=True,
    help="OneRoster version.",
)
@click.option(
    "--org-identifier",
    envvar="MISBRIDGE_ORG_IDENTIFIER",
    required=True,
    help="The school's URN (6 digits) or LAESTAB (7 digits) ($MISBRIDGE_ORG_IDENTIFIER).",
)
@_common
@click.pass_context
def oneroster_command(
    ctx: click.Context,
    version: str,
    org_identifier: str,
    out: Path,
    org_name: str,
    store_url: str | None,
    extract_dir: Path | None,
    profile: str,
    academic_year: tuple[date, date] | None,
    as_json: bool,
) -> None:
    """Write a OneRoster CSV package (bulk) and its zip into --out."""
    identifier = org_identifier.strip()
    if not _IDENTIFIER.fullmatch(identifier):
        raise click.BadParameter(
            "give the school's URN (6 digits) or its LAESTAB (7 digits: the LA number, then "
            "the establishment number)",
            param_hint="--org-identifier",
        )
    from misbridge.export.run import export_oneroster

    name = _org_name(org_name)
    roster = _roster(ctx, store_url, extract_dir, academic_year)
    result = export_oneroster(
        roster,
        out,
        org_name=name,
        org_identifier=identifier,
        version=version,
        profile=profile,
    )
    _report(ctx, result, as_json)


@export_group.command("sds")
@_common
@click.pass_context
def sds_command(
    ctx: click.Context,
    out: Path,
    org_name: str,
    store_url: str | None,
    extract_dir: Path | None,
    profile: str,
    academic_year: tuple[date, date] | None,
    as_json: bool,
) -> None:
    """Write Microsoft School Data Sync v2.1 CSV files and their zip into --out."""
    from misbridge.export.run import export_sds

    name = _org_name(org_name)
    roster = _roster(ctx, store_url, extract_dir, academic_year)
    result = export_sds(roster, out, org_name=name, profile=profile)
    _report(ctx, result, as_json)
