"""The vault's commands, a plugin of the command line.

``misbridge activate``, ``misbridge credentials set|list|remove``, ``misbridge
rotate-keys`` and ``misbridge decommission``. Secrets are only ever read from a hidden
prompt or (``--from-env``) the MIS's documented environment variables: never from the
command line, where they would land in shell history and process listings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from misbridge.errors import MisbridgeError, UnknownMisError
from misbridge.hookspecs import hookimpl
from misbridge.hooktypes import CredentialField, MisInfo, Secret

__all__ = ["PASSPHRASE_STORES", "register_commands"]

#: ``misbridge.vault.settings.PassphraseIn``'s values, spelt out so that building the
#: command line does not import the vault (a test checks the two agree).
PASSPHRASE_STORES = ("keyring", "file")


@contextmanager
def _errors() -> Iterator[None]:
    """Show a misbridge error as one clear line (exit 1), never as a traceback."""
    try:
        yield
    except MisbridgeError as exc:
        raise click.ClickException(exc.message) from None


def _mis_info(ctx: click.Context, mis: str) -> MisInfo | None:
    from misbridge.cli_kit import state

    try:
        return state(ctx).plugins.info(mis)
    except UnknownMisError:
        return None


def _vault() -> Any:
    from misbridge.vault.vault import Vault

    return Vault()


def _school_option(school: str | None) -> str:
    return f" --school {school}" if school else ""


def _where(mis: str, school: str | None) -> str:
    return f"{mis} (school {school})" if school else mis


def _ask(field: CredentialField, from_env: bool) -> str:
    if from_env:
        value = os.environ.get(field.env, "")
        if not value and field.required:
            raise click.ClickException(f"--from-env: {field.env} is not set ({field.name})")
        return value
    default: Any = None if field.required else ""
    return str(click.prompt(field.prompt, hide_input=True, default=default, show_default=False))


def _fields_to_ask(
    mis: str, info: MisInfo | None, names: tuple[str, ...]
) -> tuple[CredentialField, ...]:
    if info is None:
        if not names:
            raise click.ClickException(
                f"no installed plugin serves the MIS {mis!r}, so its credential fields are "
                "unknown; name each one with --field (e.g. --field username --field password)"
            )
        env_stem = f"MISBRIDGE_{mis.upper()}_"
        return tuple(CredentialField(n, n, env_stem + n.upper()) for n in names)
    if not names:
        return info.credentials
    known = {f.name: f for f in info.credentials}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.ClickException(
            f"{mis} has no credential {', '.join(unknown)}; its credentials are: "
            f"{', '.join(known) or 'none'}"
        )
    return tuple(known[n] for n in names)


@click.command("activate")
@click.option(
    "--passphrase-store",
    type=click.Choice(PASSPHRASE_STORES),
    default=None,
    help="Where the private key's passphrase lives: the OS keyring (default) or an "
    "owner-only file (headless servers; also chosen by MISBRIDGE_KEY_PASSPHRASE_FILE).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="The passphrase file (default: <home>/keys/passphrases.json).",
)
@click.option(
    "--blob-store",
    default="file",
    show_default=True,
    help="Where sealed credentials are kept: 'file' (<home>/credentials) or an https URL.",
)
def activate_command(
    passphrase_store: str | None, passphrase_file: str | None, blob_store: str
) -> None:
    """Generate this installation's key pair (run once, before 'credentials set')."""
    from misbridge.vault import activate

    with _errors():
        done = activate(
            passphrase_store=passphrase_store,
            passphrase_file=passphrase_file,
            blob_store=blob_store,
        )
    click.echo(f"Activated. Key id: {done.kid}")
    click.echo(f"  private key:       {done.key_file} (owner-only, encrypted)")
    click.echo(f"  its passphrase in: {done.passphrase_where}")
    click.echo(f"  sealed credentials: {done.blob_store}")
    for warning in done.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    click.echo("Next: misbridge credentials set <mis> [--school ID]")


@click.group("credentials")
def credentials_group() -> None:
    """Store, list and remove sealed MIS credentials."""


@credentials_group.command("set")
@click.argument("mis")
@click.option("--school", default=None, help="The school these credentials are for.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="Ask only this credential (repeatable; others already stored are kept). Needed "
    "for an MIS whose plugin is not installed here.",
)
@click.option(
    "--from-env", is_flag=True, help="Read each credential from its environment variable."
)
@click.pass_context
def credentials_set(
    ctx: click.Context, mis: str, school: str | None, fields: tuple[str, ...], from_env: bool
) -> None:
    """Ask for MIS credentials (without echo), seal them, store only the sealed blob."""
    wanted = _fields_to_ask(mis, _mis_info(ctx, mis), fields)
    with _errors():
        vault = _vault()
        vault.require_activated()
        values: dict[str, Secret | str] = {}
        if fields:
            values.update(vault.unseal(mis, school) or {})
        for field in wanted:
            answer = _ask(field, from_env)
            if answer:
                values[field.name] = answer
            elif field.required:
                raise click.ClickException(f"{field.name} is required")
            else:
                values.pop(field.name, None)
        header = vault.seal(mis, school, values)
    click.echo(
        f"Sealed {len(header.fields)} credential(s) for {_where(mis, school)} "
        f"({', '.join(header.fields)}) to key {header.kid} in {vault.blobs.describe()}."
    )
    click.echo(f"Check them with: misbridge {mis} check{_school_option(school)}")


@credentials_group.command("list")
@click.option("--verify", is_flag=True, help="Also unseal each one (in memory) to check it.")
def credentials_list(verify: bool) -> None:
    """List stored credentials: MIS, school, fields, key (never the values)."""
    with _errors():
        vault = _vault()
        entries = vault.entries()
        if not entries:
            click.echo(f"No credentials stored in {vault.blobs.describe()}.")
            return
        for entry in entries:
            if entry.header is None:
                status = f"DAMAGED: {entry.problem}"
                line = f"{_where(entry.mis, entry.school)}: {status}"
            else:
                h = entry.header
                line = (
                    f"{_where(entry.mis, entry.school)}: {', '.join(h.fields)}; key {h.kid}; "
                    f"sealed {h.sealed_at}"
                )
                if verify:
                    try:
                        vault.unseal(entry.mis, entry.school)
                        line += "; opens OK"
                    except MisbridgeError as exc:
                        line += f"; REFUSED: {exc.message}"
            click.echo(line)


@credentials_group.command("remove")
@click.argument("mis")
@click.option("--school", default=None, help="The school the credentials are for.")
def credentials_remove(mis: str, school: str | None) -> None:
    """Delete the sealed credentials stored for an MIS (and school)."""
    with _errors():
        removed = _vault().remove(mis, school)
    if not removed:
        raise click.ClickException(f"no credentials were stored for {_where(mis, school)}")
    click.echo(f"Removed the credentials for {_where(mis, school)}.")


@click.command("rotate-keys")
def rotate_keys_command() -> None:
    """Make a new key pair, re-seal every credential to it, destroy the old key."""
    with _errors():
        from misbridge.vault import rotate_keys

        report = rotate_keys()
    click.echo(f"New key {report.new_kid} is active; re-sealed {len(report.resealed)} blob(s).")
    for kid in report.destroyed:
        click.echo(f"Destroyed old key {kid}.")


def _places() -> dict[str, list[str]]:
    """The stores and extract folders this machine's runs used, and the default store."""
    from misbridge.jobs.places import known_places

    places = known_places()
    default = Path("misbridge.db").resolve()
    if default.exists() and f"sqlite:///{default}" not in places["stores"]:
        places["stores"].append(f"sqlite:///{default}")
    return places


def _erase(places: dict[str, list[str]]) -> None:
    import shutil

    for store in places["stores"]:
        if not store.startswith("sqlite:///"):
            click.echo(
                f"Not erased: {store}: drop that database (or its schema) with the "
                "database's own tools; it holds pupils' records"
            )
            continue
        path = Path(store[len("sqlite:///") :])
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if part.exists():
                part.unlink()
                click.echo(f"Erased the store {part}")
    for folder in places["folders"]:
        target = Path(folder)
        if target.is_dir() and target.resolve() not in (Path.home().resolve(), Path("/")):
            shutil.rmtree(target)
            click.echo(f"Erased the extract folder {target}")


@click.command("decommission")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--erase-data",
    is_flag=True,
    help="Also erase the SQLite stores and extract folders listed (pupils' data).",
)
@click.pass_context
def decommission_command(ctx: click.Context, yes: bool, erase_data: bool) -> None:
    """Remove keys, sealed credentials, settings and logs; list accounts to disable, and
    the stores and extract folders that hold pupils' data (erased with --erase-data)."""
    places = _places()
    if places["stores"] or places["folders"]:
        click.echo("Pupils' data this machine's runs wrote:")
        for store in places["stores"]:
            click.echo(f"  store:  {store}")
        for folder in places["folders"]:
            click.echo(f"  folder: {folder}")
        if not erase_data:
            click.echo("  (kept: pass --erase-data to erase them too)")
    with _errors():
        vault = _vault()
        where = vault.blobs.describe()
    if not yes:
        click.confirm(
            f"This removes every key, sealed credential, setting and log under {vault.root} "
            f"(and in {where}). Continue?",
            abort=True,
        )

    def describe(mis: str) -> MisInfo | None:
        return _mis_info(ctx, mis)

    with _errors():
        from misbridge.vault import decommission

        report = decommission(vault, describe_mis=describe)
    if erase_data:
        _erase(places)
    for item in report.removed:
        click.echo(f"Removed {item}")
    for problem in report.problems:
        click.secho(f"Not done: {problem}", fg="yellow", err=True)
    click.echo("")
    click.echo("To finish decommissioning:")
    if report.accounts:
        for account in report.accounts:
            click.echo(f"  - {account.advice}")
    else:
        click.echo("  - delete or reset the password of any MIS account you created for misbridge")
    click.echo("  - uninstall misbridge (pip uninstall misbridge, or remove its package)")
    click.echo("  - remove any copies of misbridge's logs or reports your own policy requires")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (activate_command, credentials_group, rotate_keys_command):
        cli.add_command(command)
    cli.add_command(decommission_command)
