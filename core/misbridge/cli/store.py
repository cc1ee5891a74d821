"""``misbridge store ...``: the sync store's commands, a plugin of the command line.

``status``, ``plan EXTRACT_DIR``, ``apply EXTRACT_DIR [--approve HASH]``, ``review
HASH``, ``switch-mis`` and ``purge --older-than DAYS``. Every command takes ``--store
URL`` (or ``$MISBRIDGE_STORE``; default ``sqlite:///misbridge.db``). An extract folder
is what ``misbridge <mis> extract --out DIR`` writes. Exit codes: 0 done, 1 error,
4 the safety guard refused the plan (nothing was applied).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from misbridge.config import DEFAULT_STORE_URL as DEFAULT_URL
from misbridge.errors import GuardRefused, MisbridgeError
from misbridge.hookspecs import hookimpl

if TYPE_CHECKING:
    from misbridge.result import ExtractResult
    from misbridge.store.store import Store

__all__ = ["register_commands", "store_group"]

EXIT_GUARD = 4
F = TypeVar("F", bound=Callable[..., Any])


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(store_group)


def _store_option(func: F) -> F:
    return click.option(
        "--store",
        "store_url",
        envvar="MISBRIDGE_STORE",
        default=DEFAULT_URL,
        show_default=True,
        help="Store URL (SQLite or PostgreSQL); also $MISBRIDGE_STORE.",
    )(func)


def _share_option(func: F) -> F:
    return click.option(
        "--max-disable-share",
        type=click.FloatRange(0.0, 1.0),
        default=0.10,
        show_default=True,
        help="Refuse plans disabling more than this share of any kind of active record.",
    )(func)


def _school_option(func: F) -> F:
    return click.option(
        "--school",
        "school",
        default=None,
        metavar="NAME",
        help="The school (its key in misbridge.toml); needed when the store holds several.",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


@contextmanager
def _opened(url: str) -> Iterator[Store]:
    """The store, with misbridge errors shown as one clear line (exit 1)."""
    from misbridge.store.store import open_store

    try:
        with open_store(url) as store:
            yield store
    except GuardRefused:
        raise
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


def _console(ctx: click.Context) -> Any:
    from misbridge.cli_kit import state

    return state(ctx).console


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _read(folder: Path) -> ExtractResult:
    from misbridge.output import read_extract

    if not (folder / "summary.json").is_file():
        raise click.ClickException(
            f"{folder} is not an extract folder (no summary.json): write one with "
            "misbridge <mis> extract --out DIR"
        )
    try:
        return read_extract(folder)
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"cannot read the extract in {folder}: {exc}") from None


_EXTRACT = click.argument(
    "extract_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)


@click.group("store")
def store_group() -> None:
    """The sync store: status, plan, apply, review, switch-mis, purge."""


@store_group.command("status")
@_store_option
@_school_option
@_json_option
@click.pass_context
def status_command(ctx: click.Context, store_url: str, school: str | None, as_json: bool) -> None:
    """Records, MIS ids, the last run and the plans waiting for review (of one school, or
    of every school of a trust's store)."""
    with _opened(store_url) as store:
        try:
            status = store.status(school)
        except MisbridgeError as exc:
            raise click.ClickException(exc.message) from None
    if as_json:
        _echo_json(status)
        return
    console = _console(ctx)
    console.print(f"Store {status['store']} (schema {status['schema_revision']})")
    if status["school"] is not None and status["school"] != "default":
        console.print(f"School {status['school']}", highlight=False)
    for name, records in (status.get("schools") or {}).items():
        students = records.get("student", {})
        console.print(
            f"  school {name:<20} {students.get('enabled', 0):>7} students enabled "
            f"(--school {name} for its detail)",
            highlight=False,
        )
    for kind, counts in status["records"].items():
        console.print(
            f"  {kind:<14} {counts['enabled']:>7} enabled {counts['disabled']:>7} disabled "
            f"{counts['purged']:>5} purged"
        )
    ids = ", ".join(f"{mis}: {n}" for mis, n in status["mis_ids"].items()) or "none"
    console.print(f"MIS ids: {ids}")
    last = status["last_run"]
    if last is None:
        console.print("No run yet.")
    else:
        console.print(
            f"Last run {last['id']} ({last['mis']}, {last['finished_at']}): {last['status']}, "
            f"{last['writes']} rows written, {last['errors']} record errors"
        )
    guard = status["guard"] or {"kinds": {}}
    if status["guard"] is not None:
        console.print(
            f"Guard: at most {guard['max_disable_share']:.0%} of a kind disabled a night, "
            f"{guard['cumulative_share']:.0%} within {guard['cumulative_days']} days since "
            "the last approved plan:",
            highlight=False,
        )
    for kind, use in guard["kinds"].items():
        console.print(
            f"  {kind:<14} tonight up to {use['tonight_limit']:>5}; window used "
            f"{use['window_disabled']:>5} of {use['window_base']} ({use['window_share']:.1%} "
            f"of {use['window_limit']:.0%}), {use['window_left']} left",
            highlight=False,
        )
    for mark in status["checkpoints"]:
        console.print(
            f"Checkpoint {mark['school']} {mark['mis']} {mark['dataset']}: next incremental "
            f"read from {mark['at']}",
            highlight=False,
        )
    for waiting in status["plans_awaiting_review"]:
        whose = "" if waiting["school"] == "default" else f" for school {waiting['school']}"
        console.print(
            f"[yellow]A plan from {waiting['mis']}{whose} was refused by the guard and awaits "
            f"review[/]: misbridge store review {waiting['hash']}",
            highlight=False,
        )


@store_group.command("plan")
@_EXTRACT
@_store_option
@_school_option
@_share_option
@_json_option
@click.pass_context
def plan_command(
    ctx: click.Context,
    extract_dir: Path,
    store_url: str,
    school: str | None,
    max_disable_share: float,
    as_json: bool,
) -> None:
    """Show what applying EXTRACT_DIR would change, and the guard's verdict. Writes nothing."""
    result = _read(extract_dir)
    with _opened(store_url) as store:
        try:
            plan = store.plan(result, max_disable_share=max_disable_share, school=school)
        except MisbridgeError as exc:
            raise click.ClickException(exc.message) from None
    plan.folder = str(extract_dir)
    if as_json:
        _echo_json(plan.as_dict())
    else:
        plan.render(_console(ctx))


@store_group.command("apply")
@_EXTRACT
@_store_option
@_school_option
@_share_option
@click.option("--approve", metavar="HASH", help="Apply this refused plan (its full hash).")
@click.option("--dry-run", is_flag=True, help="Plan and judge the guard; write nothing.")
@click.option(
    "--release-held",
    is_flag=True,
    help="Also disable the records absent from an unverified read (you know it is whole).",
)
@_json_option
@click.pass_context
def apply_command(
    ctx: click.Context,
    extract_dir: Path,
    store_url: str,
    school: str | None,
    max_disable_share: float,
    approve: str | None,
    dry_run: bool,
    release_held: bool,
    as_json: bool,
) -> None:
    """Sync EXTRACT_DIR into the store in one transaction (exit 4: refused by the guard)."""
    from misbridge.cli_kit import state

    result = _read(extract_dir)
    with _opened(store_url) as store:
        try:
            plan = store.plan(
                result,
                max_disable_share=max_disable_share,
                release_held=release_held,
                school=school,
            )
            plan.folder = str(extract_dir)
            report = store.settle(plan, dry_run=dry_run, approve=approve)
        except GuardRefused as refused:
            if as_json:
                _echo_json({"refused": True, **refused.context, "message": refused.message})
            click.echo(f"Error: {refused.message}", err=True)
            raise SystemExit(EXIT_GUARD) from None
        except MisbridgeError as exc:
            raise click.ClickException(exc.message) from None
    if not dry_run:
        # Every error of the run, on site and in processing, goes on to the error hooks.
        errors = [*result.errors, *report.errors]
        summary = {**result.summary(), "sync": report.as_dict()}
        state(ctx).plugins.pm.hook.report_errors(errors=errors, summary=summary)
    if as_json:
        _echo_json(report.as_dict())
    else:
        report.render(_console(ctx))


@store_group.command("review")
@click.argument("plan_hash", metavar="HASH")
@_store_option
@click.pass_context
def review_command(ctx: click.Context, plan_hash: str, store_url: str) -> None:
    """Print a saved plan (refused plans wait here for review) as JSON."""
    with _opened(store_url) as store:
        saved = store.saved_plan(plan_hash)
    if saved is None:
        raise click.ClickException(f"no saved plan {plan_hash} in this store")
    _echo_json(saved)


@store_group.command("switch-mis")
@_store_option
@_school_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def switch_mis_command(ctx: click.Context, store_url: str, school: str | None, yes: bool) -> None:
    """The school changed MIS: forget its MIS ids, match by name and UPN next time."""
    with _opened(store_url) as store:
        try:
            name = store.school_name(school)
        except MisbridgeError as exc:
            raise click.ClickException(exc.message) from None
        whose = "" if name == "default" else f" of school {name}"
        if not yes:
            click.confirm(
                f"Clear every MIS id{whose}? The next apply will match records by natural "
                "key (UPN, names, dates of birth, work emails) and store the new MIS's ids",
                abort=True,
            )
        cleared = store.switch_mis(name)
    _console(ctx).print(
        f"Cleared {cleared} MIS ids. Extract from the new MIS and run "
        "'misbridge store plan' to check the matches before applying."
    )


@store_group.command("purge")
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=0),
    required=True,
    metavar="DAYS",
    help="Erase personal data of records disabled more than DAYS days ago.",
)
@_store_option
@click.option(
    "--school", "school", default=None, metavar="NAME", help="Only this school (default: all)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def purge_command(
    ctx: click.Context, older_than: int, store_url: str, school: str | None, yes: bool
) -> None:
    """Retention: erase personal data of long-disabled records (an audit entry is kept)."""
    whose = f" of school {school}" if school else ""
    if not yes:
        click.confirm(
            f"Erase, for good, the personal data of every record{whose} disabled more than "
            f"{older_than} days ago?",
            abort=True,
        )
    with _opened(store_url) as store:
        erased = store.purge(older_than, school=school)
    _console(ctx).print(f"Erased the personal data of {erased} records; see the audit entry.")
