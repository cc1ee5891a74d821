"""``misbridge worker``: one of the integrator's Celery workers (a command-line plugin).

::

    misbridge worker key --key-file /etc/misbridge/worker.key     # once: prints the public key
    MISBRIDGE_WORKER_TOKEN=mbw_... misbridge worker \\
        --hub https://hub.example.org --broker redis://127.0.0.1:6379/0 \\
        --key-file /etc/misbridge/worker.key --rate-limit api.wonde.com=8/token

It consumes the queue of each cloud MIS (``misbridge.wonde``, ``misbridge.arbor``,
``misbridge.bromcom``; ``--mis`` to choose), runs ``--concurrency`` extracts at once (one
process each), and shares the vendors' rate limits with every other worker through
Redis (``--redis``, default the broker when it is Redis). The token comes from
``$MISBRIDGE_WORKER_TOKEN`` only, never an argument. See docs/workers.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from misbridge.hookspecs import hookimpl

__all__ = ["register_commands", "worker_group"]

CLOUD = ("wonde", "arbor", "bromcom")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(worker_group)


@click.group("worker", invoke_without_command=True)
@click.option("--hub", "hub_url", envvar="MISBRIDGE_WORKER_HUB", help="The hub's URL (https).")
@click.option(
    "--broker",
    envvar="MISBRIDGE_WORKER_BROKER_URL",
    help="The Celery broker: redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672//.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MISBRIDGE_WORKER_KEY_FILE",
    help="The workers' private key (owner-only), which school credentials are sealed to.",
)
@click.option("--mis", "mis", multiple=True, help="Serve only this MIS's queue (repeatable).")
@click.option(
    "--queue-prefix",
    default="misbridge.",
    show_default=True,
    help="The hub's queue_prefix (integrators sharing one broker give each hub its own).",
)
@click.option("--concurrency", type=click.IntRange(1, 256), default=2, show_default=True)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo"]),
    default="prefork",
    show_default=True,
    help="prefork: a process per extract at once; solo: one, in this process.",
)
@click.option(
    "--rate-limit",
    "rate_limits",
    multiple=True,
    metavar="HOST=RATE[/token]",
    help="A vendor's limit in requests a second, per token with /token (repeatable).",
)
@click.option("--redis", "redis_url", help="Redis for shared rate limits (default: the broker).")
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Private folder for extracts being sealed (default: the misbridge home's).",
)
@click.option("--store", default=None, help="Also sync each school into this store (URL).")
@click.option(
    "--visibility-timeout",
    type=click.FloatRange(1),
    default=6 * 3600,
    show_default=True,
    help="Redis: seconds before an unacknowledged task is delivered again (> longest extract).",
)
@click.option("--retries", type=click.IntRange(0, 50), default=5, show_default=True)
@click.option("--retry-seconds", type=click.FloatRange(0.1), default=30.0, show_default=True)
@click.option("--heartbeat-seconds", type=click.FloatRange(0.1), default=20.0, show_default=True)
@click.option("--ca-file", default=None, help="The hub's CA certificate, if private.")
@click.pass_context
def worker_group(
    ctx: click.Context,
    hub_url: str | None,
    broker: str | None,
    key_file: Path | None,
    mis: tuple[str, ...],
    queue_prefix: str,
    concurrency: int,
    pool: str,
    rate_limits: tuple[str, ...],
    redis_url: str | None,
    work_dir: Path | None,
    store: str | None,
    visibility_timeout: float,
    retries: int,
    retry_seconds: float,
    heartbeat_seconds: float,
    ca_file: str | None,
) -> None:
    """Run a Celery worker for the hub's cloud-MIS schools (see docs/workers.md)."""
    if ctx.invoked_subcommand is not None:
        return
    from misbridge.agent.hubclient import check_hub_url
    from misbridge.config import home
    from misbridge.errors import MisbridgeError
    from misbridge.hooktypes import Secret
    from misbridge.worker.ratelimit import parse_rule

    token = os.environ.get("MISBRIDGE_WORKER_TOKEN", "")
    missing = [
        name
        for name, value in (("--hub", hub_url), ("--broker", broker), ("--key-file", key_file))
        if not value
    ]
    if missing or not token.startswith("mbw_"):
        raise click.UsageError(
            f"give {', '.join(missing) or 'everything'} and the worker token in "
            "$MISBRIDGE_WORKER_TOKEN (misbridge hub worker add prints it)"
        )
    assert hub_url and broker and key_file
    try:
        rules = tuple(parse_rule(r) for r in rate_limits)
        from misbridge.worker.job import WorkerSettings, load_key

        load_key(key_file)  # refuse a missing or shared key now, not per task
        settings = WorkerSettings(
            hub_url=check_hub_url(hub_url),
            token=Secret(token),
            key_path=key_file,
            work_dir=work_dir or home() / "worker",
            store=store,
            ca_file=ca_file,
            heartbeat_seconds=heartbeat_seconds,
            redis_url=redis_url or (broker if broker.startswith("redis") else None),
            rate_limits=rules,
        )
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None
    if rules and settings.redis_url is None:
        raise click.UsageError("shared rate limits need Redis: give --redis URL")
    settings.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    from misbridge.worker.app import configure, make_app
    from misbridge.worker.queues import queue_for

    configure(settings, retries=retries, retry_seconds=retry_seconds)
    app = make_app(broker, visibility_timeout=visibility_timeout)
    queues = ",".join(queue_for(m, queue_prefix) for m in (mis or CLOUD))
    app.worker_main(
        [
            "worker",
            "--queues",
            queues,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"misbridge@{os.uname().nodename}-{os.getpid()}",
        ]
    )


@worker_group.command("key")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), required=True)
def key_command(key_file: Path) -> None:
    """Make the workers' key pair; prints the public key for 'misbridge hub worker add'."""
    from misbridge.worker.job import new_key

    if key_file.exists():
        raise click.ClickException(f"{key_file} exists already; it is not replaced")
    click.echo(new_key(key_file))
