"""A plugin's command group that is built, with its imports, only when it is used.

Every ``misbridge`` command that is not built in loads every plugin and asks each for
its commands (the ``register_commands`` hook); ``misbridge --help`` lists them all. An
MIS plugin's own command module imports its client, its session and what it renders
with, so :class:`LazyGroup` stands in for the group: its name and one-line help are
known without importing anything, and the real group is built the first time the
command line parses it, lists its commands or describes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["LazyGroup", "resolved"]


class LazyGroup(click.Group):
    """Stands in for the group ``load`` builds, until the group is used.

    A group that fails to build is an error of that command only (``Error: ...``, exit
    1); every other command of the line still works.
    """

    def __init__(self, name: str, help: str, load: Callable[[], click.Command]) -> None:
        super().__init__(name=name, help=help)
        self._load = load
        self._resolved: click.Command | None = None

    def resolve(self) -> click.Command:
        """The real group, built on the first call."""
        if self._resolved is None:
            try:
                self._resolved = self._load()
            except Exception as exc:  # a broken plugin fails its own command only
                raise click.ClickException(
                    f"the {self.name!r} commands could not be loaded: {type(exc).__name__}: {exc}"
                ) from exc
        return self._resolved

    # click parses a subcommand with ``cmd.make_context`` and then runs
    # ``ctx.command.invoke``: handing back the real group's context runs the real group.
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self.resolve().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        real = self.resolve()
        return real.list_commands(ctx) if isinstance(real, click.Group) else []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        real = self.resolve()
        return real.get_command(ctx, cmd_name) if isinstance(real, click.Group) else None

    def to_info_dict(self, ctx: click.Context) -> dict[str, Any]:
        return self.resolve().to_info_dict(ctx)


def resolved(command: click.Command) -> click.Command:
    """``command`` itself, or the real group a :class:`LazyGroup` stands in for."""
    return command.resolve() if isinstance(command, LazyGroup) else command
