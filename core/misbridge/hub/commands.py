"""``misbridge hub ...``: run the integrator's hub and manage it (a default plugin).

``serve`` runs the ASGI app under uvicorn; ``user add``, ``user set-key``, ``token
create``, ``school add``, ``activation-code`` and ``sweep`` work on the hub's database
directly, for the operator (every one is audited as the "system" actor). Heavy modules
(FastAPI, the hub's services) are imported inside the commands, so ``misbridge``
starts as fast without the hub as with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from misbridge.hookspecs import hookimpl

__all__ = ["hub_group", "register_commands"]

F = TypeVar("F", bound=Callable[..., Any])
PERMISSION_CHOICES = ("view", "import-data", "admin")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(hub_group)


def _database(func: F) -> F:
    return click.option(
        "--database",
        "database_url",
        envvar="MISBRIDGE_HUB_DATABASE_URL",
        default="sqlite:///misbridge-hub.db",
        show_default=True,
        help="The hub's database (SQLite or PostgreSQL URL); also $MISBRIDGE_HUB_DATABASE_URL.",
    )(func)


def _engine(url: str) -> Any:
    from misbridge.errors import MisbridgeError
    from misbridge.hub.database import open_database

    try:
        return open_database(url)
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


def _now() -> Any:
    from misbridge.hub.database import utcnow

    return utcnow()


def _run(func: Callable[[], Any]) -> Any:
    from misbridge.errors import MisbridgeError

    try:
        return func()
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


@click.group("hub")
def hub_group() -> None:
    """The integrator's hub: serve it, and manage users, schools and activation codes."""


@hub_group.command("serve")
@_database
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, type=int)
@click.option("--storage", type=click.Path(path_type=Path), help="Folder for sealed uploads.")
@click.option("--key-file", type=click.Path(path_type=Path), help="Webhook signing key file.")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False))
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Reverse proxies that terminate TLS (comma-separated); their X-Forwarded-Proto "
    "is trusted.",
)
def serve_command(
    database_url: str,
    host: str,
    port: int,
    storage: Path | None,
    key_file: Path | None,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
    forwarded_allow_ips: str | None,
) -> None:
    """Run the hub (uvicorn). TLS is required unless bound to the loopback interface."""
    import uvicorn

    from misbridge.hub.app import create_app
    from misbridge.hub.protocol import is_loopback
    from misbridge.hub.settings import HubSettings

    if not is_loopback(host) and not (ssl_certfile and ssl_keyfile) and not forwarded_allow_ips:
        raise click.ClickException(
            f"refusing to serve plain HTTP on {host}: give --ssl-certfile and --ssl-keyfile, "
            "or --forwarded-allow-ips for the reverse proxy that terminates TLS"
        )
    settings = _run(
        lambda: HubSettings.from_env(
            os.environ, database_url=database_url, storage_path=storage, key_path=key_file
        )
    )
    app = _run(lambda: create_app(settings))
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_keep_alive=75,  # longer than a long poll's hold
        timeout_graceful_shutdown=5,  # held long polls must not delay a restart by 50 s
    )


@hub_group.group("user")
def user_group() -> None:
    """Integrator users: add one, register its public key."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    required=True,
    type=click.Choice(PERMISSION_CHOICES),
    help="Repeatable: view, import-data (start and retrieve extracts), admin.",
)
@click.option("--school", "schools", multiple=True, help="Only these schools (default: all).")
@click.option("--password", "ask_password", is_flag=True, help="Ask for a web log-in password.")
@click.option("--token/--no-token", default=True, show_default=True, help="Make an API token.")
@_database
def user_add(
    name: str,
    permissions: tuple[str, ...],
    schools: tuple[str, ...],
    ask_password: bool,
    token: bool,
    database_url: str,
) -> None:
    """Add a user (and print its API token, once)."""
    from misbridge.hub.accounts import create_token, create_user

    password = None
    if ask_password:
        password = click.prompt("Password (12 characters or more)", hide_input=True)
        if len(password) < 12:
            raise click.ClickException("the password must have 12 characters or more")
    engine = _engine(database_url)
    user = _run(
        lambda: create_user(
            engine, _now(), None, name, permissions, schools=schools or None, password=password
        )
    )
    click.echo(f"Added user {user['name']} ({user['id']}): {', '.join(user['permissions'])}")
    if token:
        _, secret = _run(lambda: create_token(engine, _now(), None, user["id"], label="cli"))
        click.echo(f"API token (shown once; the hub keeps only its digest): {secret}")


@user_group.command("set-key")
@click.argument("name")
@click.option("--public-key", required=True, help="X25519 public key, base64 (32 bytes).")
@_database
def user_set_key(name: str, public_key: str, database_url: str) -> None:
    """Register the public key extracts started by NAME are sealed to."""
    import sqlalchemy as sa

    from misbridge.hub import schema
    from misbridge.hub.accounts import set_public_key
    from misbridge.hub.database import reader
    from misbridge.hub.principals import User

    engine = _engine(database_url)
    with reader(engine) as conn:
        row = conn.execute(sa.select(schema.users).where(schema.users.c.name == name)).first()
    if row is None:
        raise click.ClickException(f"no user {name}")
    user = User(row.id, row.name, frozenset(row.permissions), None, "", "cli")
    kid = _run(lambda: set_public_key(engine, _now(), user, public_key))
    click.echo(f"Extracts started by {name} will be sealed to key {kid}.")


@hub_group.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@click.argument("name")
@click.option("--label", default=None)
@_database
def token_create(name: str, label: str | None, database_url: str) -> None:
    """A new API token for user NAME (shown once)."""
    import sqlalchemy as sa

    from misbridge.hub import schema
    from misbridge.hub.accounts import create_token
    from misbridge.hub.database import reader

    engine = _engine(database_url)
    with reader(engine) as conn:
        user_id = conn.execute(
            sa.select(schema.users.c.id).where(schema.users.c.name == name)
        ).scalar()
    if user_id is None:
        raise click.ClickException(f"no user {name}")
    _, secret = _run(lambda: create_token(engine, _now(), None, user_id, label=label))
    click.echo(secret)


@hub_group.group("school")
def school_group() -> None:
    """Schools."""


@school_group.command("add")
@click.argument("name")
@click.option("--mis", required=True, help="The school's MIS plugin (e.g. sims).")
@click.option("--urn", default=None, help="The school's URN.")
@click.option("--dataset", "datasets", multiple=True, help="Default datasets (repeatable).")
@click.option(
    "--runner",
    type=click.Choice(["agent", "worker"]),
    default="agent",
    show_default=True,
    help="Who extracts it: the school's agent, or the integrator's workers (cloud MIS).",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A worker-run school's MIS setting (repeatable; never a secret).",
)
@_database
def school_add(
    name: str,
    mis: str,
    urn: str | None,
    datasets: tuple[str, ...],
    runner: str,
    settings: tuple[str, ...],
    database_url: str,
) -> None:
    """Add a school; prints its id."""
    from misbridge.hub.schools import DEFAULT_DATASETS, create_school

    pairs = dict(s.split("=", 1) for s in settings if "=" in s)
    if len(pairs) != len(settings):
        raise click.UsageError("each --setting is NAME=VALUE")
    engine = _engine(database_url)
    school = _run(
        lambda: create_school(
            engine,
            _now(),
            None,
            name,
            mis,
            urn=urn,
            datasets=datasets or DEFAULT_DATASETS,
            runner=runner,
            settings=pairs or None,
        )
    )
    click.echo(school["id"])


@hub_group.command("activation-code")
@click.argument("school_id")
@click.option("--days", default=7.0, show_default=True, help="Valid for this long.")
@_database
def activation_code(school_id: str, days: float, database_url: str) -> None:
    """A one-time activation code for SCHOOL_ID's agent (shown once)."""
    from datetime import timedelta

    from misbridge.hub.schools import create_activation_code

    engine = _engine(database_url)
    code, expires = _run(
        lambda: create_activation_code(engine, _now(), None, school_id, timedelta(days=days))
    )
    click.echo(code)
    click.echo(f"(valid once, until {expires:%Y-%m-%d %H:%M} UTC)", err=True)


@hub_group.command("sweep")
@_database
@click.option("--storage", type=click.Path(path_type=Path), help="Folder for sealed uploads.")
def sweep_command(database_url: str, storage: Path | None) -> None:
    """Run the expiries and timeouts now (the running hub also does, on its own)."""
    from misbridge.hub.retention import sweep
    from misbridge.hub.settings import HubSettings
    from misbridge.hub.storage import FileStorage

    settings = _run(
        lambda: HubSettings.from_env(os.environ, database_url=database_url, storage_path=storage)
    )
    engine = _engine(database_url)
    done = _run(lambda: sweep(engine, FileStorage(settings.storage_path), _now(), settings))
    click.echo(json.dumps(done))


from misbridge.hub import commands_workers as _commands_workers  # noqa: E402, F401
