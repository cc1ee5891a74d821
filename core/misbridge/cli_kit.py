"""Building blocks for MIS command-line drivers, so every MIS behaves alike.

:func:`mis_command_group` gives a plugin its ``misbridge <mis>`` group with the
standard ``check`` and ``extract`` commands; the plugin may add more commands to it.

Exit codes (documented in docs/cli.md): 0 every dataset complete; 1 the run failed
(authentication, configuration, MIS unreachable); 3 partial success (some dataset
failed or stopped part-way; the others completed and were written); 4 the store's
safety guard refused the plan.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from attrs import define, field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from misbridge.errors import ConfigurationError, GuardRefused, MisbridgeError, RecordError
from misbridge.hooktypes import MisInfo, Secret
from misbridge.model import Dataset
from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.result import ExtractResult, OutcomeStatus

__all__ = [
    "CliState",
    "fail",
    "mis_command_group",
    "resolve_credentials",
    "run_extract_command",
]

EXIT_FAILED = 1
EXIT_PARTIAL = 3
EXIT_GUARD = 4


@define
class CliState:
    """What every command finds in ``ctx.obj``."""

    console: Console
    plugins: Plugins = field(factory=get_plugin_manager)


def state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:  # a command used outside the misbridge CLI
        obj = CliState(console=Console(stderr=True))
        ctx.obj = obj
    return obj


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``message`` as the command's error and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


def resolve_credentials(
    info: MisInfo, school: str | None, env: Mapping[str, str] | None = None
) -> dict[str, Secret]:
    """Credentials from the vault, else the environment, else a hidden prompt."""
    env = os.environ if env is None else env
    found: dict[str, Secret] = {}
    from misbridge.vault import unseal_credentials

    found.update(unseal_credentials(info.name, school) or {})
    for wanted in info.credentials:
        if wanted.name in found:
            continue
        value = env.get(wanted.env)
        if value:
            found[wanted.name] = Secret(value)
        elif sys.stdin.isatty():
            found[wanted.name] = Secret(click.prompt(wanted.prompt, hide_input=True))
        elif wanted.required:
            raise ConfigurationError(
                f"{info.name}: no {wanted.name} found; store it with "
                f"'misbridge credentials set {info.name}', or set {wanted.env}"
            )
    return found


def _setting_options(info: MisInfo) -> list[click.Option]:
    return [
        click.Option(
            [f"--{s.name.replace('_', '-')}", s.name],
            default=s.default,
            envvar=s.env,
            show_default=s.default is not None,
            required=s.required and s.default is None and s.env is None,
            help=s.help,
        )
        for s in info.settings
    ]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def run_extract_command(
    ctx: click.Context,
    info: MisInfo,
    settings: Mapping[str, str],
    credentials: Mapping[str, Secret],
    *,
    out: Path | None,
    datasets: tuple[Dataset, ...] | None,
    since: datetime | None,
    profile: str,
    store_url: str | None,
    dry_run: bool,
    approve: str | None,
    transport: Any = None,
) -> ExtractResult:
    """Run an extract with progress, write its folder, report, and sync if asked."""
    from misbridge.output import JsonlSink, write_extract_files
    from misbridge.pipeline import extract_async
    from misbridge.report import console_summary

    cli = state(ctx)
    console = cli.console
    sink = JsonlSink(out) if out else None
    tasks: dict[Dataset, Any] = {}
    with _progress(console) as progress:

        def on_record(dataset: Dataset, count: int) -> None:
            if dataset not in tasks:
                tasks[dataset] = progress.add_task(dataset.value, total=None)
            progress.update(tasks[dataset], completed=count)

        def on_total(dataset: Dataset, total: int) -> None:
            if dataset not in tasks:
                tasks[dataset] = progress.add_task(dataset.value, total=total)
            progress.update(tasks[dataset], total=total)

        try:
            result = asyncio.run(
                extract_async(
                    info.name,
                    settings=settings,
                    credentials=credentials,
                    datasets=datasets,
                    since=since,
                    profile=profile,
                    transport=transport,
                    sink=sink,
                    collect=store_url is not None,
                    on_record=on_record,
                    on_total=on_total,
                    pm=cli.plugins,
                )
            )
        finally:
            if sink is not None:
                sink.close()
    refused: GuardRefused | None = None
    if store_url is not None:
        try:
            result.errors.extend(_sync(console, store_url, result, dry_run, approve))
        except GuardRefused as exc:
            refused = exc
    # Every error of the run, on-site and processing, goes to the data manager's reports.
    summary = result.summary()
    console_summary(result.errors, summary, console)
    if out is not None:
        write_extract_files(result, out)
        console.print(f"Wrote the extract, errors and reports to {out}")
    cli.plugins.pm.hook.report_errors(errors=result.errors, summary=summary)
    if refused is not None:
        fail(str(refused), EXIT_GUARD)
    return result


def _sync(
    console: Console, url: str, result: ExtractResult, dry_run: bool, approve: str | None
) -> list[RecordError]:
    """Plan and apply into the store; the processing errors of the records it rejected."""
    from misbridge.store import open_store

    store = open_store(url)
    try:
        report = store.sync(result, dry_run=dry_run, approve=approve)
    finally:
        store.close()
    report.render(console)
    return list(report.errors)


def exit_code(result: ExtractResult) -> int:
    if result.ok:
        return 0
    if any(o.status is OutcomeStatus.COMPLETE for o in result.outcomes.values()):
        return EXIT_PARTIAL
    return EXIT_FAILED


def mis_command_group(info: MisInfo) -> click.Group:
    """``misbridge <mis>`` with ``check`` and ``extract``; add plugin commands to it."""
    setting_names = [s.name for s in info.settings]

    @click.group(name=info.name, help=f"Work with {info.title}.")
    def group() -> None:
        pass

    def settings_of(kwargs: dict[str, Any]) -> dict[str, str]:
        return {n: str(kwargs.pop(n)) for n in setting_names if kwargs.get(n) is not None}

    @click.pass_context
    def check(ctx: click.Context, /, school: str | None, **kwargs: Any) -> None:
        cli = state(ctx)
        settings = settings_of(kwargs)
        try:
            creds = resolve_credentials(info, school)
            checks = asyncio.run(_check(cli.plugins, info.name, settings, creds))
        except MisbridgeError as exc:
            fail(str(exc))
        table = Table(title=f"{info.title}: permissions")
        for column in ("dataset", "ok", "missing", "notes"):
            table.add_column(column)
        for c in checks:
            table.add_row(
                c.dataset.value,
                "[green]yes[/]" if c.ok else "[red]no[/]",
                "\n".join(c.missing),
                "\n".join(c.notes),
            )
        cli.console.print(table)
        if not all(c.ok for c in checks):
            raise SystemExit(EXIT_PARTIAL)

    @click.pass_context
    def extract(
        ctx: click.Context,
        /,
        school: str | None,
        out: Path | None,
        dataset: tuple[str, ...],
        photos: bool,
        exam_results: bool,
        assessments: bool,
        since: datetime | None,
        profile: str,
        store: str | None,
        dry_run: bool,
        approve: str | None,
        **kwargs: Any,
    ) -> None:
        settings = settings_of(kwargs)
        opt_in = (Dataset.PHOTOS, Dataset.EXAM_RESULTS, Dataset.ASSESSMENTS)
        chosen = [Dataset(d) for d in dataset] or [d for d in info.datasets if d not in opt_in]
        chosen += [Dataset.PHOTOS] if photos else []
        chosen += [Dataset.EXAM_RESULTS] if exam_results else []
        chosen += [Dataset.ASSESSMENTS] if assessments else []
        try:
            creds = resolve_credentials(info, school)
            result = run_extract_command(
                ctx,
                info,
                settings,
                creds,
                out=out,
                datasets=tuple(dict.fromkeys(chosen)),
                since=since,
                profile=profile,
                store_url=store,
                dry_run=dry_run,
                approve=approve,
            )
        except MisbridgeError as exc:
            fail(str(exc))
        raise SystemExit(exit_code(result))

    school_option = click.Option(
        ["--school"], default=None, help="School id the stored credentials belong to."
    )
    group.add_command(
        click.Command(
            "check",
            callback=check,
            params=[school_option, *_setting_options(info)],
            help=f"Pre-flight: which datasets the {info.title} account may read.",
        )
    )
    group.add_command(
        click.Command(
            "extract",
            callback=extract,
            params=[
                school_option,
                click.Option(["--out"], type=click.Path(path_type=Path), help="Output folder."),
                click.Option(
                    ["--dataset"],
                    multiple=True,
                    type=click.Choice([d.value for d in info.datasets]),
                    help="Only these datasets (repeatable).",
                ),
                click.Option(["--photos"], is_flag=True, help="Also extract photos."),
                click.Option(["--exam-results"], is_flag=True, help="Also extract exam results."),
                click.Option(
                    ["--assessments"], is_flag=True, help="Also extract assessment marksheets."
                ),
                click.Option(
                    ["--since"], type=click.DateTime(), help="Only changes since (incremental)."
                ),
                click.Option(
                    ["--profile"],
                    default="roster",
                    show_default=True,
                    type=click.Choice(["roster", "account-sync"]),
                    help="Validation profile.",
                ),
                click.Option(["--store"], envvar="MISBRIDGE_STORE", help="Sync into this store."),
                click.Option(["--dry-run"], is_flag=True, help="With --store: plan only."),
                click.Option(["--approve"], help="With --store: approve this refused plan hash."),
                *_setting_options(info),
            ],
            help=f"Extract from {info.title}, validate, report, and optionally sync.",
        )
    )
    return group


async def _check(
    plugins: Plugins, mis: str, settings: Mapping[str, str], credentials: Mapping[str, Secret]
) -> list[Any]:
    from misbridge.hooktypes import ExtractContext

    hooks = plugins.for_mis(mis)
    context = ExtractContext(mis=mis, settings=dict(settings), credentials=dict(credentials))
    session = await hooks.authenticate(context)
    try:
        pending = hooks.check_permissions(session, context)
        if pending is None:
            raise ConfigurationError(f"{mis} has no permission pre-flight")
        return list(await pending)
    finally:
        await session.aclose()
