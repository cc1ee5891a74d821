"""``misbridge.toml``: the schools, their MIS and settings, the store, the guard, the night.

::

    store = "sqlite:///misbridge.db"     # optional: the sync store (default shown)
    out = "extracts"                      # each school's extract and reports go in out/NAME
    profile = "roster"                    # the validation profile

    [guard]                               # the store's safety limits
    max_disable_share = 0.10
    max_blank_share = 0.05
    cumulative_share = 0.15
    cumulative_days = 14

    [normalise]
    username_policy = "admission-number"  # or "directory"
    genders = { M = "Male", F = "Female" }

    [schedule]                            # misbridge schedule install
    at = "02:30"
    randomised_delay_minutes = 30

    [run]                                 # a trust: its schools run at once, bounded
    concurrency = 4                       # schools at once, in all
    per_host = 2                          # schools at once against one MIS host
    processes = 0                         # worker processes (0: one per core)

    [[school]]
    name = "oakfield"                     # the school's key: checkpoints, store, reports
    mis = "wonde"
    [school.settings]                     # the MIS plugin's settings (misbridge MIS --help)
    school_id = "A1930499544"

Read with the standard library's ``tomllib``; every key is checked, and an unknown or
misspelt one is an error naming the file, the school and the closest known key.
Credentials never go in the file: they come from the vault or the environment.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import time
from pathlib import Path
from typing import Any

from attrs import field, frozen

from misbridge.config import DEFAULT_STORE_URL as DEFAULT_URL
from misbridge.errors import ConfigurationError
from misbridge.model import Dataset
from misbridge.normalise import NormaliseSettings
from misbridge.normalise.settings import DEFAULT_GENDERS, UsernamePolicy
from misbridge.settings import suggest, unknown_name
from misbridge.store.guard import GuardPolicy

__all__ = [
    "CONFIG_NAME",
    "Config",
    "RunSettings",
    "Schedule",
    "SchoolConfig",
    "load_config",
    "parse_config",
]

CONFIG_NAME = "misbridge.toml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PROFILES = ("roster", "account-sync")
_TOP = {"store", "out", "profile", "guard", "normalise", "schedule", "run", "school"}
_SCHOOL = {
    "name",
    "mis",
    "settings",
    "datasets",
    "photos",
    "exam_results",
    "assessments",
    "store",
    "out",
    "profile",
}
_GUARD = {"max_disable_share", "max_blank_share", "cumulative_share", "cumulative_days"}
_NORMALISE = {"username_policy", "genders"}
_SCHEDULE = {"at", "randomised_delay_minutes"}
_RUN = {"concurrency", "per_host", "processes", "summary"}


@frozen
class RunSettings:
    """How a trust's schools share one ``misbridge run``: at most ``concurrency`` schools
    at once, at most ``per_host`` of them against one MIS host (a vendor's API, or this
    machine for an on-site MIS), spread over ``processes`` worker processes (0: one per
    core, never more than there are schools). ``summary``: the trust summary's file
    (default ``trust-summary.json`` in ``out``, or in the misbridge home)."""

    concurrency: int = 4
    per_host: int = 2
    processes: int = 0
    summary: Path | None = None


@frozen
class Schedule:
    """When the nightly run starts: ``at`` local time, then a random delay of up to
    ``randomised_delay_minutes`` (so that a trust's schools do not all start at once)."""

    at: time = time(2, 30)
    randomised_delay_minutes: int = 30


@frozen
class SchoolConfig:
    """One school's run: its MIS and settings, where its data goes, what is checked.

    ``name`` keys the school's checkpoints, store records and report folder; ``out`` is
    the folder the extract and reports are written to (None: nowhere); ``store`` the
    sync store URL (None: no sync)."""

    name: str
    mis: str
    settings: Mapping[str, Any] = field(factory=dict)
    datasets: tuple[Dataset, ...] | None = None
    store: str | None = DEFAULT_URL
    out: Path | None = None
    profile: str = "roster"
    normalise: NormaliseSettings = field(factory=NormaliseSettings)
    guard: GuardPolicy = field(factory=GuardPolicy)
    #: Where this configuration came from, for messages ("misbridge.toml, school x").
    origin: str = ""


@frozen
class Config:
    """A whole ``misbridge.toml``: its schools and the night's schedule."""

    schools: tuple[SchoolConfig, ...]
    schedule: Schedule = field(factory=Schedule)
    path: Path | None = None
    run: RunSettings = field(factory=RunSettings)
    #: The top-level ``out`` folder (each school's is ``out/NAME``), if any.
    out: Path | None = None

    def school(self, name: str | None = None) -> SchoolConfig:
        """The school called ``name`` (or the only one)."""
        if name is None:
            if len(self.schools) == 1:
                return self.schools[0]
            names = ", ".join(s.name for s in self.schools)
            raise ConfigurationError(
                f"{self.path or CONFIG_NAME} lists several schools ({names}); say which "
                "with --school NAME"
            )
        for school in self.schools:
            if school.name == name:
                return school
        raise unknown_name("school", name, [s.name for s in self.schools], f"in {self.path}")


def _check_keys(table: Mapping[str, Any], known: set[str], where: str, what: str) -> None:
    for key in table:
        if key not in known:
            raise unknown_name(what, key, known, where)


def _share(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where}: {key} must be a number such as 0.10, not {value!r}")
    return float(value)


def _guard(table: Mapping[str, Any], where: str) -> GuardPolicy:
    _check_keys(table, _GUARD, where, "guard setting")
    base = GuardPolicy()
    days = table.get("cumulative_days", base.cumulative_days)
    if isinstance(days, bool) or not isinstance(days, int):
        raise ConfigurationError(f"{where}: cumulative_days must be a whole number of days")
    return GuardPolicy(
        max_disable_share=_share(table, "max_disable_share", base.max_disable_share, where),
        max_blank_share=_share(table, "max_blank_share", base.max_blank_share, where),
        cumulative_share=_share(table, "cumulative_share", base.cumulative_share, where),
        cumulative_days=days,
    )


def _normalise(table: Mapping[str, Any], where: str) -> NormaliseSettings:
    _check_keys(table, _NORMALISE, where, "normalise setting")
    raw_policy = table.get("username_policy", UsernamePolicy.ADMISSION_NUMBER.value)
    try:
        policy = UsernamePolicy(raw_policy)
    except ValueError:
        choices = ", ".join(p.value for p in UsernamePolicy)
        raise ConfigurationError(
            f"{where}: username_policy must be one of {choices}, not {raw_policy!r}"
        ) from None
    genders = table.get("genders", DEFAULT_GENDERS)
    if not isinstance(genders, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in genders.items()
    ):
        raise ConfigurationError(
            f'{where}: genders must map MIS values to gender names, e.g. {{ M = "Male" }}'
        )
    try:
        return NormaliseSettings(username_policy=policy, genders=dict(genders))
    except ValueError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def _schedule(table: Mapping[str, Any], where: str) -> Schedule:
    _check_keys(table, _SCHEDULE, where, "schedule setting")
    at = table.get("at", "02:30")
    if isinstance(at, time):
        moment = at
    else:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(at).strip())
        if match is None:
            raise ConfigurationError(f'{where}: at must be a time such as "02:30", not {at!r}')
        moment = time(int(match[1]), int(match[2]))
    delay = table.get("randomised_delay_minutes", 30)
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 240:
        raise ConfigurationError(
            f"{where}: randomised_delay_minutes must be a whole number from 0 to 240"
        )
    return Schedule(at=moment, randomised_delay_minutes=delay)


def _bounded(
    table: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(
            f"{where}: {key} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _run_settings(table: Mapping[str, Any], base: Path, where: str) -> RunSettings:
    _check_keys(table, _RUN, where, "run setting")
    summary = table.get("summary")
    return RunSettings(
        concurrency=_bounded(table, "concurrency", 4, 1, 256, where),
        per_host=_bounded(table, "per_host", 2, 1, 256, where),
        processes=_bounded(table, "processes", 0, 0, 64, where),
        summary=_path(summary, base, where, "summary") if summary is not None else None,
    )


def _datasets(table: Mapping[str, Any], where: str) -> tuple[Dataset, ...] | None:
    raw = table.get("datasets")
    chosen: list[Dataset] = []
    if raw is not None:
        if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
            raise ConfigurationError(f"{where}: datasets must be a list of dataset names")
        names = [d.value for d in Dataset]
        for name in raw:
            if name not in names:
                raise unknown_name("dataset", name, names, where)
            chosen.append(Dataset(name))
    for flag, dataset in (
        ("photos", Dataset.PHOTOS),
        ("exam_results", Dataset.EXAM_RESULTS),
        ("assessments", Dataset.ASSESSMENTS),
    ):
        value = table.get(flag, False)
        if not isinstance(value, bool):
            raise ConfigurationError(f"{where}: {flag} must be true or false")
        if value:
            chosen.append(dataset)
    if raw is None and not chosen:
        return None
    return tuple(dict.fromkeys(chosen))


def _path(value: Any, base: Path, where: str, key: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: {key} must be a folder path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _school(
    table: Any, defaults: Mapping[str, Any], base: Path, origin: str, position: int
) -> SchoolConfig:
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{origin}: each [[school]] must be a table")
    label = table.get("name", f"#{position}")
    where = f"{origin}, school {label}"
    _check_keys(table, _SCHOOL, where, "school key")
    name, mis = table.get("name"), table.get("mis")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"{where}: name must be 1-64 letters, digits, '.', '-' or '_' (the school's key)"
        )
    if not isinstance(mis, str) or not mis:
        raise ConfigurationError(f'{where}: say which MIS, e.g. mis = "wonde"')
    settings = table.get("settings", {})
    if not isinstance(settings, Mapping):
        raise ConfigurationError(f"{where}: [school.settings] must be a table")
    profile = table.get("profile", defaults.get("profile", "roster"))
    if profile not in _PROFILES:
        choices = ", ".join(_PROFILES)
        raise ConfigurationError(
            f"{where}: profile must be one of {choices}{suggest(str(profile), _PROFILES)}"
        )
    store = table.get("store", defaults.get("store", DEFAULT_URL))
    if store is not None and not isinstance(store, str):
        raise ConfigurationError(f"{where}: store must be a database URL")
    out_root = table.get("out")
    out: Path | None
    if out_root is not None:
        out = _path(out_root, base, where, "out")
    elif defaults.get("out") is not None:
        out = _path(defaults["out"], base, origin, "out") / name
    else:
        out = None
    return SchoolConfig(
        name=name,
        mis=mis,
        settings=dict(settings),
        datasets=_datasets(table, where),
        store=store or None,
        out=out,
        profile=str(profile),
        normalise=defaults["normalise"],
        guard=defaults["guard"],
        origin=where,
    )


def parse_config(data: Mapping[str, Any], *, path: Path | None = None) -> Config:
    """A configuration from already-parsed TOML data (see the module docstring)."""
    origin = str(path) if path is not None else CONFIG_NAME
    base = path.parent if path is not None else Path.cwd()
    _check_keys(data, _TOP, origin, "key")
    defaults: dict[str, Any] = {
        "store": data.get("store", DEFAULT_URL),
        "out": data.get("out"),
        "profile": data.get("profile", "roster"),
        "guard": _guard(_table(data, "guard", origin), f"{origin} [guard]"),
        "normalise": _normalise(_table(data, "normalise", origin), f"{origin} [normalise]"),
    }
    schools = data.get("school", [])
    if isinstance(schools, Mapping):
        schools = [schools]
    if not isinstance(schools, Sequence) or not schools:
        raise ConfigurationError(
            f"{origin} names no school: add a [[school]] table with a name and an mis"
        )
    parsed = tuple(_school(s, defaults, base, origin, n) for n, s in enumerate(schools, start=1))
    names = [s.name for s in parsed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"{origin}: two schools are called {', '.join(duplicates)}")
    schedule = _schedule(_table(data, "schedule", origin), f"{origin} [schedule]")
    run = _run_settings(_table(data, "run", origin), base, f"{origin} [run]")
    out = _path(defaults["out"], base, origin, "out") if defaults["out"] is not None else None
    return Config(schools=parsed, schedule=schedule, path=path, run=run, out=out)


def _table(data: Mapping[str, Any], key: str, origin: str) -> Mapping[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{origin}: [{key}] must be a table")
    return table


def load_config(path: Path) -> Config:
    """Read and check ``path`` (a ``misbridge.toml``).

    :raises ConfigurationError: the file is missing, not TOML, or holds an unknown key
        or a bad value; the message names the file, the school and the key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(
            f"no configuration file at {path}: write one (see docs/configuration.md) or "
            "pass --config FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {type(exc).__name__}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, path=path.resolve())
