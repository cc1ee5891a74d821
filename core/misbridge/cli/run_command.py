"""``misbridge run``: the nightly command, for every school ``misbridge.toml`` names.

One school runs as before (progress bars on a terminal). Several run as a trust
(:mod:`misbridge.jobs.trust`): at once, bounded by ``[run]``, each by
:func:`misbridge.run` under its own lock; one school failing never stops the others. A
line per school as it ends, then the trust summary (also written to
``trust-summary.json`` and ``trust-report.html``). The exit code is the worst school's
(docs/cli.md): 0 every dataset read, 1 a school could not run, 3 partial, 4 refused by
the guard, 5 locked.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from misbridge.cli_kit import EXIT_FAILED, EXIT_LOCKED, IsoMoment, state
from misbridge.errors import MisbridgeError, RunLocked
from misbridge.printable import clean

__all__ = ["default_config_path", "run_command"]


def default_config_path() -> Path:
    """``$MISBRIDGE_CONFIG``, else ``./misbridge.toml``, else the misbridge home's one."""
    from misbridge.config import home
    from misbridge.jobs.config import CONFIG_NAME

    configured = os.environ.get("MISBRIDGE_CONFIG")
    if configured:
        return Path(configured)
    here = Path.cwd() / CONFIG_NAME
    return here if here.exists() else home() / CONFIG_NAME


@click.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The configuration file (default: $MISBRIDGE_CONFIG, ./misbridge.toml, then the "
    "misbridge home's).",
)
@click.option("--school", "only", multiple=True, help="Only this school (repeatable).")
@click.option("--since", type=IsoMoment(), help="Only changes since (2026-11-01T00:00Z).")
@click.option("--dry-run", is_flag=True, help="Plan and judge the guard; apply nothing.")
@click.option("--approve", metavar="HASH", help="Apply this refused plan (one school only).")
@click.option(
    "--release-held",
    is_flag=True,
    help="Also disable the records absent from an unverified read.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Schools at once, in all (default: [run] concurrency, 4).",
)
@click.option(
    "--processes",
    type=click.IntRange(0, 64),
    default=None,
    help="Worker processes for a trust (0: one per core; default: [run] processes).",
)
@click.option(
    "--random-delay",
    type=click.IntRange(0, 240),
    default=0,
    metavar="MINUTES",
    help="First wait a random time up to this (cron has no random delay of its own).",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    config_path: Path | None,
    only: tuple[str, ...],
    since: datetime | None,
    dry_run: bool,
    approve: str | None,
    release_held: bool,
    concurrency: int | None,
    processes: int | None,
    random_delay: int,
) -> None:
    """Run every school of the configuration file: extract, sync, report (nightly)."""
    from misbridge.jobs.config import load_config

    cli = state(ctx)
    path = config_path or default_config_path()
    try:
        config = load_config(path)
        schools = [config.school(name) for name in only] if only else list(config.schools)
    except MisbridgeError as exc:
        click.echo(f"Error: {clean(exc)}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    if approve is not None and len(schools) != 1:
        click.echo("Error: --approve names one plan: give one --school with it", err=True)
        raise SystemExit(EXIT_FAILED)
    if random_delay:
        import random
        import time

        time.sleep(random.uniform(0, random_delay * 60))
    if len(schools) == 1:
        raise SystemExit(_one(cli, schools[0], since, dry_run, approve, release_held))
    if concurrency is not None or processes is not None:
        import attrs

        run = attrs.evolve(
            config.run,
            concurrency=concurrency if concurrency is not None else config.run.concurrency,
            processes=processes if processes is not None else config.run.processes,
        )
        config = attrs.evolve(config, run=run)
    raise SystemExit(_trust(cli, config, schools, since, dry_run, release_held))


def _one(
    cli: Any,
    school: Any,
    since: datetime | None,
    dry_run: bool,
    approve: str | None,
    release_held: bool,
) -> int:
    from misbridge.cli.render import run_with_progress

    try:
        result = run_with_progress(
            cli, school, since=since, dry_run=dry_run, approve=approve, release_held=release_held
        )
    except RunLocked as exc:
        click.echo(f"Error: {clean(exc)}", err=True)
        return EXIT_LOCKED
    except MisbridgeError as exc:
        click.echo(f"Error: school {school.name}: {clean(exc)}", err=True)
        return EXIT_FAILED
    return result.exit_code


def _trust(
    cli: Any,
    config: Any,
    schools: list[Any],
    since: datetime | None,
    dry_run: bool,
    release_held: bool,
) -> int:
    from misbridge.cli.render import render_trust, render_trust_school
    from misbridge.jobs.summary import summary_path, write_summary
    from misbridge.jobs.trust import run_trust

    result = run_trust(
        config,
        schools=schools,
        pm=cli.plugins,
        on_done=lambda outcome: render_trust_school(cli, outcome),
        since=since,
        dry_run=dry_run,
        release_held=release_held,
    )
    written: list[Path] = []
    try:
        written = write_summary(result, summary_path(config))
    except OSError as exc:
        click.echo(f"Error: cannot write the trust summary: {exc.strerror}", err=True)
    render_trust(cli, result, written)
    return result.exit_code
