"""``misbridge agent ...``: the school's side of remote extraction (a default plugin).

``activate CODE --hub URL``, ``run`` (the service), ``status`` (what this machine
provided to which hub, and when), ``purge`` (ask the hub to delete all it holds for
the school) and ``service-file`` (the systemd unit). Only the core is needed: no
``misbridge[hub]`` extra on a school's machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from misbridge.hookspecs import hookimpl

__all__ = ["agent_group", "register_commands"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(agent_group)


@contextmanager
def _errors() -> Iterator[None]:
    from misbridge.errors import MisbridgeError

    try:
        yield
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


@click.group("agent")
def agent_group() -> None:
    """This machine as the school's agent for an integrator's hub (outbound only)."""


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r}: use NAME=VALUE", param_hint="--setting")
        found[name.strip().replace("-", "_")] = value
    return found


@agent_group.command("activate")
@click.argument("code")
@click.option("--hub", "hub_url", required=True, help="The hub's https URL.")
@click.option("--mis", default=None, help="Check that the school's MIS is this one.")
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="An MIS setting for the Integrator (repeatable), e.g. reporter=C:\\...\\"
    "CommandReporter.exe; the same names as 'misbridge <mis> extract' options.",
)
@click.option(
    "--credentials-school",
    default=None,
    help="The --school the MIS credentials are stored under ('misbridge credentials set').",
)
@click.option("--ca-file", default=None, help="Trust this CA bundle for the hub's certificate.")
@click.option("--upload-rate", type=click.IntRange(min=1024), help="Upload bytes per second.")
@click.option("--passphrase-store", type=click.Choice(["keyring", "file"]), default=None)
@click.option("--passphrase-file", type=click.Path(dir_okay=False), default=None)
def activate_command(
    code: str,
    hub_url: str,
    mis: str | None,
    settings: tuple[str, ...],
    credentials_school: str | None,
    ca_file: str | None,
    upload_rate: int | None,
    passphrase_store: str | None,
    passphrase_file: str | None,
) -> None:
    """Register this machine with the hub using the one-time activation CODE."""
    from misbridge.agent.activation import activate_agent

    with _errors():
        config = activate_agent(
            code,
            hub_url,
            mis=mis,
            settings=_settings(settings),
            credentials_school=credentials_school,
            ca_file=ca_file,
            upload_rate=upload_rate,
            passphrase_store=passphrase_store,
            passphrase_file=passphrase_file,
        )
    click.echo(f"Activated as agent {config.agent_id} for {config.school_name} ({config.mis}).")
    click.echo(f"  hub: {config.hub_url}")
    click.echo(f"  this machine's key: {config.kid} (the private key never leaves it)")
    click.echo(
        f"Next: store the MIS credentials ('misbridge credentials set {config.mis}"
        + (f" --school {credentials_school}" if credentials_school else "")
        + "'), then run 'misbridge agent run' as a service (docs/agent.md)."
    )


@agent_group.command("run")
@click.option("--once", is_flag=True, help="Stop after one answered poll (for testing).")
@click.option("--wait", default=50.0, show_default=True, help="Long-poll hold asked for (s).")
def run_command(once: bool, wait: float) -> None:
    """The agent service: wait for requests from the hub and do them."""
    from misbridge.agent.activation import open_hub
    from misbridge.agent.config import AgentConfig, agent_dir
    from misbridge.agent.journal import Journal
    from misbridge.agent.runloop import RunLoop

    with _errors():
        config = AgentConfig.load()
        hub = open_hub(config)
        loop = RunLoop(config, hub, Journal(agent_dir()), wait=wait)
        loop.install_signals()
        try:
            loop.run(once=once)
        finally:
            hub.close()


@agent_group.command("status")
@click.option("--offline", is_flag=True, help="Do not ask the hub; show this machine's record.")
def status_command(offline: bool) -> None:
    """What this machine has provided, to which hub and when (and what the hub still holds)."""
    from misbridge.agent.activation import open_hub
    from misbridge.agent.config import AgentConfig, agent_dir
    from misbridge.agent.journal import Journal
    from misbridge.errors import MisbridgeError

    with _errors():
        config = AgentConfig.load()
    journal = Journal(agent_dir())
    click.echo(f"Agent {config.agent_id} of {config.school_name} ({config.school_id})")
    click.echo(f"  hub: {config.hub_url}   MIS: {config.mis}   key: {config.kid}")
    held: dict[str, dict[str, object]] = {}
    if not offline:
        try:
            hub = open_hub(config)
            try:
                held = {r["id"]: r for r in hub.history()}
            finally:
                hub.close()
        except MisbridgeError as exc:
            click.echo(f"  (the hub could not be asked: {exc.message}; local record only)")
    entries = list(journal.entries())
    if not entries:
        click.echo("Nothing provided yet.")
    for e in entries:
        if e["event"] == "provided":
            fate = held.get(e["request"], {}).get("state", "unknown")
            click.echo(
                f"{e['at']}  provided {', '.join(e['datasets'])} to {e['hub']} for "
                f"{e.get('requested_by') or '?'} (request {e['request']}, {e['size']} bytes "
                f"sealed, sha256 {str(e['sha256'])[:12]}...): hub says {fate}"
            )
        elif e["event"] == "purged":
            click.echo(f"{e['at']}  asked {e['hub']} to delete everything: {e['deleted']}")


@agent_group.command("purge")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge_command(yes: bool) -> None:
    """Ask the hub to delete everything it still holds for this school."""
    from misbridge.agent.activation import open_hub
    from misbridge.agent.config import AgentConfig, agent_dir
    from misbridge.agent.journal import Journal

    with _errors():
        config = AgentConfig.load()
        if not yes:
            click.confirm(
                f"Ask {config.hub_url} to delete every upload, record error and run summary "
                f"it holds for {config.school_name}?",
                abort=True,
            )
        hub = open_hub(config)
        try:
            done = hub.purge(config.school_id)
        finally:
            hub.close()
    deleted = done["deleted"]
    Journal(agent_dir()).record("purged", hub=config.hub_url, deleted=deleted)
    click.echo(
        f"The hub deleted {deleted['uploads']} uploads and {deleted['errors']} record errors, "
        f"and cleared {deleted['requests']} runs (audited at the hub, {done['at']})."
    )


@agent_group.command("service-file")
def service_file_command() -> None:
    """Print the systemd unit that runs the agent as a service."""
    click.echo(Path(__file__).with_name("misbridge-agent.service").read_text(encoding="utf-8"))
