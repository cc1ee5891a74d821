"""``misbridge wonde ...``: the standard check/extract plus ``schools`` and ``deletions``."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click
from rich.table import Table

from misbridge.plugin import MisbridgeError, MisInfo, Secret, prepare_context
from misbridge_wonde.schema import DEFAULT_BASE_URL
from misbridge_wonde.session import list_schools, open_session

__all__ = ["group"]


def _credentials(info: MisInfo) -> dict[str, Secret]:
    from misbridge.plugin import resolve_credentials

    return resolve_credentials(info, None)


def _fail(message: str) -> None:
    from misbridge.plugin import fail

    fail(message)


def _region(school: Mapping[str, Any]) -> str:
    region = school.get("region")
    domain = region.get("domain") if isinstance(region, Mapping) else None
    return str(domain or "")


def schools_command(info: MisInfo) -> click.Command:
    @click.command("schools")
    @click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True, help="Wonde API.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
    @click.pass_context
    def schools(ctx: click.Context, base_url: str, as_json: bool) -> None:
        """List the schools that have approved this token's application."""
        try:
            context = prepare_context(
                info, settings={"base_url": base_url}, credentials=_credentials(info)
            )
            found = asyncio.run(list_schools(context))
        except MisbridgeError as exc:
            _fail(str(exc))
            return
        if as_json:
            for school in found:
                click.echo(json.dumps(school, sort_keys=True, default=str))
            return
        table = Table(title="Wonde: schools that approved this application")
        for column in ("school id", "name", "URN", "LA/establishment", "MIS", "API host"):
            table.add_column(column)
        for school in found:
            table.add_row(
                str(school.get("id") or ""),
                str(school.get("name") or ""),
                str(school.get("urn") or ""),
                f"{school.get('la_code') or ''}/{school.get('establishment_number') or ''}",
                str(school.get("mis") or ""),
                _region(school),
            )
        from misbridge.plugin import state

        state(ctx).console.print(table)

    return schools


def deletions_command(info: MisInfo) -> click.Command:
    @click.command("deletions")
    @click.option("--school-id", required=True, envvar="MISBRIDGE_WONDE_SCHOOL_ID")
    @click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True)
    @click.option("--since", type=click.DateTime(), help="Only deletions after this (UTC).")
    @click.option("--until", type=click.DateTime(), help="Only deletions before this (UTC).")
    @click.option("--type", "kind", help="Only records of this type (student, employee, class).")
    def deletions(
        school_id: str,
        base_url: str,
        since: datetime | None,
        until: datetime | None,
        kind: str | None,
    ) -> None:
        """Print the records Wonde reports deleted, as JSON lines (id, type, mis_id,
        deleted_at, restored_at: a row with restored_at set was undone)."""

        async def run() -> int:
            context = prepare_context(
                info,
                settings={"school_id": school_id, "base_url": base_url},
                credentials=_credentials(info),
            )
            session = await open_session(context)
            count = 0
            try:
                async for batch in session.deletions(since, kind=kind, until=until):
                    for record in batch:
                        sys.stdout.write(json.dumps(dict(record), sort_keys=True) + "\n")
                        count += 1
            finally:
                await session.aclose()
            return count

        try:
            count = asyncio.run(run())
        except MisbridgeError as exc:
            _fail(str(exc))
            return
        click.echo(f"{count} deletion(s)", err=True)

    return deletions


def group(info: MisInfo) -> click.Group:
    """``misbridge wonde``: the shared check/extract commands and Wonde's own."""
    from misbridge.plugin import mis_command_group

    group = mis_command_group(info)
    group.add_command(schools_command(info))
    group.add_command(deletions_command(info))
    return group
