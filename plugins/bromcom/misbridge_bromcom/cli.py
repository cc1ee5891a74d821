"""``misbridge bromcom ...``: the standard ``check``/``extract`` plus ``wire-names``.

The two modes need different credentials (an application secret, or a Bromcom user
name and password), so the standard commands are built once per mode and the one the
``--mode`` setting names runs: a legacy-mode user is asked for their Bromcom login at
each run, never for a secret they do not have, and nothing is stored in clear.
"""

from __future__ import annotations

from typing import Any

import click
from attrs import evolve
from rich.table import Table

from misbridge.cli_kit import fail, mis_command_group, state
from misbridge.hooktypes import MisInfo
from misbridge_bromcom.config import MODE_CREDENTIALS
from misbridge_bromcom.schema import ENTITIES, GROUP_TYPES, Mode

__all__ = ["command_group"]

_HOW = {"V": "verified", "I": "inferred", "U": "unknown"}


def _for_mode(info: MisInfo, mode: Mode) -> MisInfo:
    wanted = MODE_CREDENTIALS[mode]
    return evolve(
        info,
        credentials=tuple(evolve(c, required=True) for c in info.credentials if c.name in wanted),
    )


def command_group(info: MisInfo) -> click.Group:
    group = mis_command_group(info)
    per_mode = {mode: mis_command_group(_for_mode(info, mode)) for mode in Mode}
    for name in ("check", "extract"):
        command = group.commands[name]

        def dispatch(_name: str = name, **kwargs: Any) -> None:
            raw = str(kwargs.get("mode") or Mode.PARTNER.value).strip().lower()
            if raw not in {m.value for m in Mode}:
                fail(f"bromcom: --mode must be 'partner' or 'soap', not {raw!r}")
            kwargs["mode"] = raw
            ctx = click.get_current_context()
            ctx.invoke(per_mode[Mode(raw)].commands[_name], **kwargs)

        command.callback = dispatch
    group.add_command(wire_names)
    return group


@click.command("wire-names")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="partner")
@click.pass_context
def wire_names(ctx: click.Context, mode: str) -> None:
    """The entity and field names each mode uses, and how we know each one.

    Names marked inferred or unknown can be changed with the wire_names setting
    (key=name pairs, comma-separated), without a new release.
    """
    side = 0 if mode == Mode.PARTNER.value else 1
    table = Table(title=f"Bromcom wire names ({mode} mode)")
    for column in ("wire_names key", "name on the wire", "known"):
        table.add_column(column)
    for key, entity in ENTITIES.items():
        name = entity.partner if side == 0 else entity.soap
        if not name:
            continue
        table.add_row(key, name, _HOW[entity.how])
        for field, spec in entity.fields.items():
            if spec[side]:
                table.add_row(f"{key}.{field}", spec[side], _HOW[spec[2]])
    for kind, (code, how) in GROUP_TYPES.items():
        table.add_row(f"type.{kind}", code, _HOW[how])
    state(ctx).console.print(table)
