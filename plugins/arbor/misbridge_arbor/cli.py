"""``misbridge arbor ...``: the standard check, extract and simulate commands."""

from __future__ import annotations

import click

from misbridge.cli_kit import mis_command_group
from misbridge.hooktypes import MisInfo

__all__ = ["arbor_group"]


def arbor_group(info: MisInfo) -> click.Group:
    return mis_command_group(info)
