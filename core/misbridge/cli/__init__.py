"""The ``misbridge`` command line.

Only this package configures logging. The core's own command groups (store, vault,
export) are plugins of the ``register_commands`` hook like any MIS plugin's driver
(:data:`COMMAND_PLUGINS`); a plugin that fails to load is listed by ``misbridge
plugins`` with its error and never stops the command line.

Start-up stays short: ``--version`` loads no plugin, an MIS plugin's command group is
built only when it is used (:class:`misbridge.cli.lazy.LazyGroup`), and every command
imports what it needs (the store, the vault, an MIS client) only when it runs.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from misbridge._version import __version__

__all__ = ["COMMAND_PLUGINS", "build_cli", "main"]

#: The core's commands, registered as plugins when the command line is built.
COMMAND_PLUGINS: tuple[str, ...] = (
    "misbridge.cli.store",
    "misbridge.cli.vault",
    "misbridge.cli.export",
    "misbridge.hub.commands",
    "misbridge.agent.commands",
    "misbridge.worker.commands",
)

#: Commands of the root group itself, loaded without loading any plugin.
_BUILT_IN: dict[str, tuple[str, str]] = {
    "demo": ("misbridge.cli.demo", "demo_command"),
    "plugin": ("misbridge.cli.plugin_command", "plugin_group"),
    "plugins": ("misbridge.cli.plugins_command", "plugins_command"),
    "run": ("misbridge.cli.run_command", "run_command"),
    "schedule": ("misbridge.cli.schedule", "schedule_group"),
}


class _Root(click.Group):
    """The root group: built-in commands at once, plugin commands when first needed."""

    def __init__(self, registry: Callable[[], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._registry = registry
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        plugins = self._registry()
        for name in COMMAND_PLUGINS:
            if not plugins.pm.has_plugin(name):
                plugins.register(importlib.import_module(name), name)
        _register_commands(plugins, self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return sorted({*super().list_commands(ctx), *_BUILT_IN})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _BUILT_IN and cmd_name not in self.commands:
            module, attribute = _BUILT_IN[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        found = super().get_command(ctx, cmd_name)
        if found is None:
            self._load()
            found = super().get_command(ctx, cmd_name)
        return found


def _register_commands(plugins: Any, cli: click.Group) -> None:
    """Each plugin's ``register_commands``, one at a time in pluggy's order, so that a
    plugin whose commands fail is listed by ``misbridge plugins`` and the rest work."""
    hook = plugins.pm.hook.register_commands
    impls = hook.get_hookimpls()
    if any(impl.wrapper or impl.hookwrapper for impl in impls):
        # A wrapper needs pluggy's own call, over every plugin at once.
        _guarded(plugins, "register_commands", lambda: hook(cli=cli))
        return
    for impl in reversed(impls):  # pluggy calls the last registered first
        arguments = dict.fromkeys(impl.argnames, cli)  # the hook's one argument
        _guarded(plugins, impl.plugin_name, functools.partial(impl.function, **arguments))


def _guarded(plugins: Any, name: str, call: Callable[[], object]) -> None:
    try:
        call()
    except Exception as exc:  # one plugin's broken commands never stop the command line
        plugins.record_error(name, f"register_commands failed: {type(exc).__name__}: {exc}")


def build_cli(plugins: Any = None) -> click.Group:
    """The root command with every plugin's commands added (``plugins`` for tests)."""
    from misbridge.cli_kit import CliState

    cache: list[Any] = [plugins] if plugins is not None else []

    def registry() -> Any:
        if not cache:
            from misbridge.plugins import get_plugin_manager

            cache.append(get_plugin_manager())
        return cache[0]

    @click.pass_context
    def root(ctx: click.Context, log_json: bool, verbose: int) -> None:
        """Pull roster data out of school MIS systems, validate it, and sync it safely."""
        from misbridge.logs import configure_logging

        level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
        configure_logging(json_output=log_json, level=level)
        ctx.obj = CliState(registry=registry, log_json=log_json)

    cli = _Root(
        registry,
        name="misbridge",
        callback=root,
        context_settings={"help_option_names": ["-h", "--help"]},
        params=[
            click.Option(
                ["--log-json"], is_flag=True, help="Log as JSON lines (for log shippers)."
            ),
            click.Option(
                ["-v", "--verbose"], count=True, help="More log detail (-v info, -vv debug)."
            ),
        ],
        help="Pull roster data out of school MIS systems, validate it, and sync it safely.",
    )
    click.version_option(__version__, prog_name="misbridge")(cli)
    return cli


def main() -> None:
    try:
        build_cli()(prog_name="misbridge")
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("Interrupted.", err=True)
        sys.exit(130)
