"""``misbridge hub worker add``, ``hub school set-credentials``, ``hub schedule ...``."""

from __future__ import annotations

import json

import click

from misbridge.hub.commands import _database, _engine, _now, _run, hub_group, school_group

__all__: list[str] = []


@hub_group.group("worker")
def worker_group() -> None:
    """The integrator's Celery workers."""


@worker_group.command("add")
@click.argument("name")
@click.option("--public-key", required=True, help="The workers' public key (misbridge worker key).")
@_database
def worker_add(name: str, public_key: str, database_url: str) -> None:
    """Register a worker; prints its token once (give it as $MISBRIDGE_WORKER_TOKEN)."""
    from misbridge.hub.workers import create_worker

    engine = _engine(database_url)
    made = _run(lambda: create_worker(engine, _now(), None, name, public_key))
    click.echo(made["token"])


@school_group.command("set-credentials")
@click.argument("school_id")
@_database
def set_credentials(school_id: str, database_url: str) -> None:
    """Seal a worker-run school's MIS credentials to the workers' key.

    The values are read from the MIS plugin's environment variables (as
    ``misbridge <mis> extract`` reads them) or a hidden prompt, never an argument; the
    hub keeps only the sealed form, which it cannot open."""
    import sqlalchemy as sa

    from misbridge.credentials import resolve_credentials
    from misbridge.hub import schema
    from misbridge.hub.workers import set_credentials as seal
    from misbridge.plugins import get_plugin_manager

    engine = _engine(database_url)
    with engine.connect() as conn:
        mis = conn.execute(
            sa.select(schema.school.c.mis).where(schema.school.c.id == school_id)
        ).scalar()
    if mis is None:
        raise click.ClickException(f"no school {school_id}")
    info = _run(lambda: get_plugin_manager().info(mis))
    found = _run(lambda: resolve_credentials(info, None, prompt=True))
    clear = {name: secret.reveal() for name, secret in found.items()}
    kid = _run(lambda: seal(engine, _now(), None, school_id, clear))
    click.echo(f"Sealed {len(clear)} credentials of {school_id} to the workers' key {kid}.")


@hub_group.group("schedule")
def schedule_group() -> None:
    """Nightly schedules: a window in which schools are started, spread evenly."""


@schedule_group.command("add")
@click.argument("name")
@click.option("--user", required=True, help="Start the extracts as this user (import-data).")
@click.option("--school", "schools", multiple=True, required=True, help="A school id.")
@click.option("--window", required=True, help="Local times, e.g. 01:00-05:00.")
@click.option("--dataset", "datasets", multiple=True)
@_database
def schedule_add(
    name: str,
    user: str,
    schools: tuple[str, ...],
    window: str,
    datasets: tuple[str, ...],
    database_url: str,
) -> None:
    """Add a schedule; prints its id."""
    from misbridge.hub.schedules import create_schedule

    engine = _engine(database_url)
    made = _run(
        lambda: create_schedule(
            engine, _now(), None, name, user, list(schools), window, list(datasets) or None
        )
    )
    click.echo(made["id"])


@schedule_group.command("runs")
@click.argument("schedule_id")
@click.option("--state", default=None, help="Only these (due, started, ready, missed, failed).")
@_database
def schedule_runs(schedule_id: str, state: str | None, database_url: str) -> None:
    """Each school's slot on each night, as JSON lines (missed runs with why)."""
    import sqlalchemy as sa

    from misbridge.hub import schema

    engine = _engine(database_url)
    table = schema.schedule_run
    query = sa.select(table).where(table.c.schedule_id == schedule_id)
    if state:
        query = query.where(table.c.state == state)
    with engine.connect() as conn:
        for row in conn.execute(query.order_by(table.c.night, table.c.due_at)):
            click.echo(json.dumps(dict(row._mapping), default=str))
