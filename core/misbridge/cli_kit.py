"""Building blocks for MIS command-line drivers, so every MIS behaves alike.

:func:`mis_command_group` gives a plugin its ``misbridge <mis>`` group with the
standard ``check``, ``extract`` and ``simulate`` commands; the plugin may add more. The
``extract`` command is a thin shell over :func:`misbridge.run`, the one sequence every
caller uses.

Exit codes (docs/cli.md): 0 every dataset read; 1 the run failed (authentication,
configuration, MIS or store unreachable); 3 partial success (some dataset failed or
stopped part-way; the others were used); 4 the store's safety guard refused the plan;
5 another run of the same school held the lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from attrs import define, field

from misbridge.credentials import resolve_credentials
from misbridge.errors import ConfigurationError, MisbridgeError, RunLocked
from misbridge.hooktypes import MisInfo, Secret
from misbridge.model import Dataset
from misbridge.printable import clean

if TYPE_CHECKING:
    from rich.console import Console

    from misbridge.plugins import Plugins

__all__ = [
    "EXIT_FAILED",
    "EXIT_GUARD",
    "EXIT_LOCKED",
    "EXIT_PARTIAL",
    "CliState",
    "IsoMoment",
    "clean",
    "fail",
    "mis_command_group",
    "mis_group_help",
    "resolve_credentials",
    "state",
]

EXIT_FAILED = 1
EXIT_PARTIAL = 3
EXIT_GUARD = 4
EXIT_LOCKED = 5


@define
class CliState:
    """What every command finds in ``ctx.obj``: the console and the (lazy) plugins."""

    registry: Callable[[], Plugins] | None = None
    log_json: bool = False
    _console: Console | None = field(default=None, alias="console")
    _plugins: Plugins | None = field(default=None, alias="plugins")

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console()
        return self._console

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            if self.registry is not None:
                self._plugins = self.registry()
            else:
                from misbridge.plugins import get_plugin_manager

                self._plugins = get_plugin_manager()
        return self._plugins


def state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:  # a command used outside the misbridge CLI
        obj = CliState()
        ctx.obj = obj
    return obj


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``message`` as the command's error and exit with ``code``."""
    click.echo(f"Error: {clean(message)}", err=True)
    raise SystemExit(code)


class IsoMoment(click.ParamType[datetime]):
    """A moment with its time zone: ``2026-11-01T00:00Z``, ``2026-11-01T00:00+01:00``."""

    name = "moment"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a date and time: write it as 2026-11-01T00:00Z (UTC) or "
                "2026-11-01T00:00+01:00",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            self.fail(
                f"{text!r} has no time zone, so it could mean two moments: add Z for UTC "
                f"({text}Z) or the offset ({text}+01:00 in summer time)",
                param,
                ctx,
            )
        return moment


def _setting_options(info: MisInfo) -> list[click.Option]:
    options = []
    for s in info.settings:
        kind: Any = click.STRING
        if s.choices:
            kind = click.Choice(s.choices, case_sensitive=False)
        options.append(
            click.Option(
                [f"--{s.name.replace('_', '-')}", s.name],
                default=None,
                envvar=s.env,
                show_default=s.default,
                required=False,
                type=kind,
                help=s.help,
            )
        )
    return options


def _settings_of(info: MisInfo, kwargs: dict[str, Any]) -> dict[str, str]:
    names = [s.name for s in info.settings]
    return {n: str(kwargs.pop(n)) for n in names if kwargs.get(n) is not None}


def _require_settings(info: MisInfo, settings: Mapping[str, str]) -> None:
    for s in info.settings:
        if s.required and s.default is None and not settings.get(s.name):
            hint = f" or set {s.env}" if s.env else ""
            raise ConfigurationError(
                f"{info.name}: the setting {s.name!r} is required; pass "
                f"--{s.name.replace('_', '-')}{hint}, or name it in misbridge.toml",
                setting=s.name,
            )


def mis_group_help(info: MisInfo) -> str:
    """The help of ``misbridge <mis>``, listed before the plugin's commands are built."""
    return f"Work with {info.title}."


def mis_command_group(info: MisInfo) -> click.Group:
    """``misbridge <mis>`` with ``check``, ``extract`` and ``simulate``."""

    @click.group(name=info.name, help=mis_group_help(info))
    def group() -> None:
        pass

    @click.pass_context
    def check(ctx: click.Context, /, school: str | None, **kwargs: Any) -> None:
        cli = state(ctx)
        settings = _settings_of(info, kwargs)
        try:
            _require_settings(info, settings)
            creds = resolve_credentials(info, school or info.school_key(settings))
            checks = asyncio.run(_check(cli.plugins, info, settings, creds))
        except MisbridgeError as exc:
            fail(str(exc))
        from misbridge.cli.render import render_checks

        render_checks(cli, info, checks)
        if not all(c.ok for c in checks):
            raise SystemExit(EXIT_PARTIAL)

    @click.pass_context
    def extract(
        ctx: click.Context,
        /,
        school: str | None,
        out: Path | None,
        dataset: tuple[str, ...],
        photos: bool,
        exam_results: bool,
        assessments: bool,
        since: datetime | None,
        profile: str,
        store: str | None,
        dry_run: bool,
        approve: str | None,
        release_held: bool,
        **kwargs: Any,
    ) -> None:
        from misbridge.cli.render import run_with_progress

        cli = state(ctx)
        settings = _settings_of(info, kwargs)
        opt_in = (Dataset.PHOTOS, Dataset.EXAM_RESULTS, Dataset.ASSESSMENTS)
        chosen = [Dataset(d) for d in dataset] or [d for d in info.datasets if d not in opt_in]
        chosen += [Dataset.PHOTOS] if photos else []
        chosen += [Dataset.EXAM_RESULTS] if exam_results else []
        chosen += [Dataset.ASSESSMENTS] if assessments else []
        try:
            _require_settings(info, settings)
            from misbridge.jobs.config import SchoolConfig

            name = school or info.school_key(settings)
            config = SchoolConfig(
                name=name,
                mis=info.name,
                settings=settings,
                datasets=tuple(dict.fromkeys(chosen)),
                store=store,
                out=out,
                profile=profile,
            )
            creds = resolve_credentials(info, name)
            result = run_with_progress(
                cli,
                config,
                credentials=creds,
                since=since,
                dry_run=dry_run,
                approve=approve,
                release_held=release_held,
            )
        except RunLocked as exc:
            fail(str(exc), EXIT_LOCKED)
        except MisbridgeError as exc:
            fail(str(exc))
        raise SystemExit(result.exit_code)

    @click.command("simulate")
    @click.option("--port", type=click.IntRange(0, 65535), default=0, help="0: any free port.")
    @click.option("--students", type=click.IntRange(1, 20000), default=150, show_default=True)
    @click.option("--staff", type=click.IntRange(1, 2000), default=24, show_default=True)
    @click.option("--seed", default=0, show_default=True, help="Another seed, another school.")
    @click.option("--seconds", default=0.0, help="Stop after this long (0: until Ctrl-C).")
    def simulate(port: int, students: int, staff: int, seed: int, seconds: float) -> None:
        """Serve a simulated school (no real data) on this machine, to try check/extract."""
        from misbridge.cli.simulate import serve_simulator

        serve_simulator(info, port=port, students=students, staff=staff, seed=seed, seconds=seconds)

    school_option = click.Option(
        ["--school"],
        default=None,
        help="The school's key (its checkpoints and stored credentials); default: the "
        "school setting's value.",
    )
    group.add_command(
        click.Command(
            "check",
            callback=check,
            params=[school_option, *_setting_options(info)],
            help=f"Pre-flight: which datasets the {info.title} account may read.",
        )
    )
    group.add_command(
        click.Command(
            "extract",
            callback=extract,
            params=[
                school_option,
                click.Option(
                    ["--out"],
                    type=click.Path(path_type=Path),
                    help="Folder for the extract and its reports (errors.csv, report.html).",
                ),
                click.Option(
                    ["--dataset"],
                    multiple=True,
                    type=click.Choice([d.value for d in info.datasets]),
                    help="Only these datasets (repeatable).",
                ),
                click.Option(["--photos"], is_flag=True, help="Also extract photos."),
                click.Option(["--exam-results"], is_flag=True, help="Also extract exam results."),
                click.Option(
                    ["--assessments"], is_flag=True, help="Also extract assessment marksheets."
                ),
                click.Option(
                    ["--since"],
                    type=IsoMoment(),
                    help="Only changes since this moment, with its time zone (2026-11-01T00:00Z).",
                ),
                click.Option(
                    ["--profile"],
                    default="roster",
                    show_default=True,
                    type=click.Choice(["roster", "account-sync"]),
                    help="Validation profile.",
                ),
                click.Option(["--store"], envvar="MISBRIDGE_STORE", help="Sync into this store."),
                click.Option(["--dry-run"], is_flag=True, help="With --store: plan only."),
                click.Option(["--approve"], help="With --store: apply this refused plan (hash)."),
                click.Option(
                    ["--release-held"],
                    is_flag=True,
                    help="With --store: also disable records absent from an unverified read.",
                ),
                *_setting_options(info),
            ],
            help=f"Extract from {info.title}, validate, report, and optionally sync.",
        )
    )
    if info.simulator is not None:
        group.add_command(simulate)
    return group


async def _check(
    plugins: Plugins,
    info: MisInfo,
    settings: Mapping[str, str],
    credentials: Mapping[str, Secret],
) -> list[Any]:
    from misbridge.pipeline import prepare_context

    hooks = plugins.for_mis(info.name)
    context = prepare_context(info, settings=settings, credentials=credentials)
    session = await hooks.authenticate(context)
    try:
        pending = hooks.check_permissions(session, context)
        if pending is None:
            raise ConfigurationError(f"{info.name} has no permission pre-flight")
        return list(await pending)
    finally:
        await session.aclose()
