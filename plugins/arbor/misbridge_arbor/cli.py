"""``misbridge arbor ...``: the standard check/extract commands, plus ``simulate``."""

from __future__ import annotations

import time

import click

from misbridge.cli_kit import mis_command_group
from misbridge.hooktypes import MisInfo

__all__ = ["arbor_group"]


def arbor_group(info: MisInfo) -> click.Group:
    group = mis_command_group(info)

    @group.command("simulate")
    @click.option("--students", default=150, show_default=True, help="Pupils in the school.")
    @click.option("--staff", default=24, show_default=True, help="Staff in the school.")
    @click.option("--seed", default=0, show_default=True, help="Sample school seed.")
    @click.option("--latency-ms", default=0.0, show_default=True, help="Delay per request.")
    @click.option("--seconds", default=0.0, help="Stop after this long (0: until Ctrl-C).")
    def simulate(students: int, staff: int, seed: int, latency_ms: float, seconds: float) -> None:
        """Serve a simulated Arbor school on loopback, to try the other commands on."""
        from misbridge.sample import sample_school
        from misbridge.simulation import serve_loopback
        from misbridge_arbor.simulator import simulator

        sim = simulator(
            sample_school(seed=seed, students=students, staff=staff), latency=latency_ms / 1000
        )
        with serve_loopback(sim.app) as url:
            creds = sim.source(url).credentials
            click.echo(f"Simulated Arbor at {url} (a sample school; no real data)")
            click.echo(
                f"  MISBRIDGE_ARBOR_USERNAME={creds['username']} "
                f"MISBRIDGE_ARBOR_API_KEY={creds['api_key']} "
                f"misbridge arbor extract --base-url {url} --out OUT"
            )
            deadline = time.monotonic() + seconds if seconds else None
            try:
                while deadline is None or time.monotonic() < deadline:
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass

    return group
