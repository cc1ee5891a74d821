"""Where an MIS's credentials come from: the vault, the environment, or a prompt.

Never from a command-line argument or a configuration file. The vault's sealed
credentials win; a credential the vault does not hold is read from its environment
variable, and, only when asked for and on a terminal, from a hidden prompt.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from misbridge.errors import ConfigurationError
from misbridge.hooktypes import MisInfo, Secret

__all__ = ["resolve_credentials"]


def resolve_credentials(
    info: MisInfo,
    school: str | None,
    env: Mapping[str, str] | None = None,
    *,
    prompt: bool = True,
) -> dict[str, Secret]:
    """The credentials of ``info``'s MIS for ``school``.

    :raises ConfigurationError: a required credential is nowhere (the message says how
        to store it).
    """
    env = os.environ if env is None else env
    found: dict[str, Secret] = {}
    from misbridge.vault import unseal_credentials

    found.update(unseal_credentials(info.name, school) or {})
    if school not in (None, "default") and not found:
        found.update(unseal_credentials(info.name, None) or {})
    for wanted in info.credentials:
        if wanted.name in found:
            continue
        value = env.get(wanted.env)
        if value:
            found[wanted.name] = Secret(value)
        elif prompt and sys.stdin.isatty():
            import click

            found[wanted.name] = Secret(click.prompt(wanted.prompt, hide_input=True))
        elif wanted.required:
            raise ConfigurationError(
                f"{info.name}: no {wanted.name} found; store it with "
                f"'misbridge credentials set {info.name}', or set {wanted.env}",
                mis=info.name,
                credential=wanted.name,
            )
    return found
