"""``misbridge demo``: the whole job on the built-in sample school, no MIS needed.

It generates the sample school, starts the chosen MIS plugin's simulator (an HTTP
simulator on a loopback port; SIMS's CommandReporter stand-in as a real process), and
runs :func:`misbridge.run` against it: the plugin's real code extracts, the extract and
the error reports are written, and the sync goes into the embedded SQLite store. Running
it again shows the sync changing nothing; running it with another ``--mis`` in the same
folder syncs the same school from another MIS: matched, not duplicated.
"""

from __future__ import annotations

from pathlib import Path

import click

from misbridge.cli_kit import EXIT_FAILED, fail, state
from misbridge.errors import MisbridgeError

__all__ = ["demo_command"]

DEFAULT_STORE = "sqlite:///misbridge.db"


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
    from misbridge.cli.render import run_with_progress
    from misbridge.jobs.config import SchoolConfig
    from misbridge.sample import sample_school
    from misbridge.simulation import reachable

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
        f"{len(school.groups)} groups, served by the {info.title} simulator",
        highlight=False,
    )
    simulator = info.simulator(school)
    try:
        with reachable(simulator) as source:
            config = SchoolConfig(
                name="demo",
                mis=info.name,
                settings=dict(source.settings),
                datasets=info.datasets,
                store=store,
                out=out,
            )
            result = run_with_progress(
                cli, config, credentials=dict(source.credentials), transport=source.transport
            )
    except MisbridgeError as exc:
        fail(str(exc), EXIT_FAILED)
    finally:
        simulator.close()
    cli.console.print(f"Open {out / 'report.html'} to see every record that needs fixing.")
    raise SystemExit(result.exit_code)
