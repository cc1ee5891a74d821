"""``misbridge demo``: the whole job on the built-in sample school, no MIS needed.

It generates the sample school, starts the chosen MIS plugin's simulator (an HTTP
simulator on a loopback port; SIMS's CommandReporter stand-in as a real process),
extracts through the plugin's real code, writes the extract and the error reports,
and syncs into the embedded SQLite store, then shows what the sync did. Running it
again shows the sync changing nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

from misbridge.cli_kit import EXIT_FAILED, exit_code, fail, run_extract_command, state
from misbridge.errors import MisbridgeError
from misbridge.hooktypes import Secret, SimulatedSource, Simulator
from misbridge.simulation import serve_loopback
from misbridge.testing.school import sample_school

__all__ = ["demo_command"]

DEFAULT_STORE = "sqlite:///misbridge.db"


@contextlib.contextmanager
def _reachable(simulator: Simulator) -> Iterator[SimulatedSource]:
    if simulator.app is None:
        yield simulator.source()
        return
    with serve_loopback(simulator.app) as base_url:
        yield simulator.source(base_url)


@click.command("demo")
@click.option("--mis", default=None, help="Which MIS plugin's simulator to use.")
@click.option("--students", default=150, show_default=True, help="Size of the sample school.")
@click.option("--staff", default=24, show_default=True)
@click.option("--seed", default=0, show_default=True, help="Another seed, another school.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("misbridge-demo"),
    show_default=True,
    help="Where the extract and its reports go.",
)
@click.option("--store", default=DEFAULT_STORE, show_default=True, help="Store URL to sync into.")
@click.pass_context
def demo_command(
    ctx: click.Context, mis: str | None, students: int, staff: int, seed: int, out: Path, store: str
) -> None:
    """Extract the built-in sample school through an MIS simulator and sync it."""
    cli = state(ctx)
    available = sorted(n for n, p in cli.plugins.mis.items() if p.info.simulator is not None)
    if not available:
        fail("no MIS plugin with a simulator is installed; see 'misbridge plugins'")
    chosen = mis or ("wonde" if "wonde" in available else available[0])
    try:
        info = cli.plugins.info(chosen)
    except MisbridgeError as exc:
        fail(str(exc))
    if info.simulator is None:
        fail(f"{chosen} has no simulator; choose one of: {', '.join(available)}")
    school = sample_school(seed=seed, students=students, staff=staff)
    cli.console.print(
        f"[bold]{school.name}[/]: {len(school.students)} students, {len(school.staff)} staff, "
        f"{len(school.groups)} groups, served by the {info.title} simulator"
    )
    simulator = info.simulator(school)
    try:
        with _reachable(simulator) as source:
            result = run_extract_command(
                ctx,
                info,
                dict(source.settings),
                {k: Secret(v) for k, v in source.credentials.items()},
                out=out,
                datasets=info.datasets,
                since=None,
                profile="roster",
                store_url=store,
                dry_run=False,
                approve=None,
                transport=source.transport,
            )
    except MisbridgeError as exc:
        fail(str(exc), EXIT_FAILED)
    finally:
        simulator.close()
    cli.console.print(f"Open {out / 'report.html'} to see every record that needs fixing.")
    raise SystemExit(exit_code(result))
