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

from misbridge.plugin import MisInfo, fail, mis_command_group, state
from misbridge_bromcom.schema import ENTITIES, GROUP_TYPES, Mode
from misbridge_bromcom.settings import MODE_CREDENTIALS
from misbridge_bromcom.wire_sources import KNOWN_UNREAD, note_of, source_of

__all__ = ["group", "wire_name_rows", "wire_names_markdown"]

_HOW = {"V": "verified", "I": "inferred", "U": "unknown"}


def _for_mode(info: MisInfo, mode: Mode) -> MisInfo:
    wanted = MODE_CREDENTIALS[mode]
    return evolve(
        info,
        credentials=tuple(evolve(c, required=True) for c in info.credentials if c.name in wanted),
    )


def group(info: MisInfo) -> click.Group:
    commands = mis_command_group(info)
    per_mode = {mode: mis_command_group(_for_mode(info, mode)) for mode in Mode}
    for name in ("check", "extract"):
        command = commands.commands[name]

        def dispatch(_name: str = name, **kwargs: Any) -> None:
            raw = str(kwargs.get("mode") or Mode.PARTNER.value).strip().lower()
            if raw not in {m.value for m in Mode}:
                fail(f"bromcom: --mode must be 'partner' or 'soap', not {raw!r}")
            kwargs["mode"] = raw
            ctx = click.get_current_context()
            ctx.invoke(per_mode[Mode(raw)].commands[_name], **kwargs)

        command.callback = dispatch
    commands.add_command(wire_names)
    return commands


def wire_name_rows() -> list[tuple[str, str, str, str, str, str]]:
    """``(key, partner name, legacy name, known, source, note)`` for every wire name."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for key, entity in ENTITIES.items():
        rows.append(
            (key, entity.partner, entity.soap, _HOW[entity.how], source_of(key), note_of(key))
        )
        for field, (partner, soap, how) in entity.fields.items():
            name = f"{key}.{field}"
            rows.append((name, partner, soap, _HOW[how], source_of(name), note_of(name)))
    for kind, (code, how) in GROUP_TYPES.items():
        name = f"type.{kind}"
        rows.append((name, code, code, _HOW[how], source_of(name), note_of(name)))
    return rows


def wire_names_markdown() -> str:
    """The wire names as the Markdown table ``docs/plugins/bromcom.md`` holds."""

    def cell(text: str) -> str:
        return f"`{text}`" if text else "-"

    lines = [
        "| `wire_names` key | Partner API | legacy service | known | public source | note |",
        "|---|---|---|---|---|---|",
    ]
    for key, partner, soap, how, source, note in wire_name_rows():
        lines.append(f"| `{key}` | {cell(partner)} | {cell(soap)} | {how} | {source} | {note} |")
    lines += [
        "",
        "Verified names misbridge does not read (its model has no such field):",
        "",
        "| entity | Partner API name | meaning |",
        "|---|---|---|",
    ]
    for unread in KNOWN_UNREAD:
        entity = ENTITIES[unread.entity].partner
        lines.append(f"| `{entity}` | `{unread.partner}` | {unread.meaning} |")
    return "\n".join(lines) + "\n"


@click.command("wire-names")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="partner")
@click.option("--markdown", is_flag=True, help="Both modes as one Markdown table (as in the docs).")
@click.pass_context
def wire_names(ctx: click.Context, mode: str, markdown: bool) -> None:
    """The entity and field names each mode uses, how we know each one, and from where.

    Names marked inferred or unknown can be changed with the wire_names setting
    (key=name pairs, comma-separated), without a new release.
    """
    if markdown:
        click.echo(wire_names_markdown(), nl=False)
        return
    side = 1 if mode == Mode.PARTNER.value else 2
    table = Table(title=f"Bromcom wire names ({mode} mode)")
    for column in ("wire_names key", "name on the wire", "known", "public source", "note"):
        table.add_column(column)
    for row in wire_name_rows():
        if row[side]:
            table.add_row(row[0], row[side], row[3], row[4], row[5])
    state(ctx).console.print(table)
    if mode == Mode.PARTNER.value:
        extra = Table(title="Verified names misbridge does not read")
        for column in ("entity", "name on the wire", "meaning"):
            extra.add_column(column)
        for unread in KNOWN_UNREAD:
            extra.add_row(ENTITIES[unread.entity].partner, unread.partner, unread.meaning)
        state(ctx).console.print(extra)
