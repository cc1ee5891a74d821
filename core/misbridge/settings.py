"""An MIS plugin's settings, parsed and checked once, wherever they come from.

A setting may come from the command line (always text), a configuration file (TOML:
text, numbers, booleans) or a library caller (anything). Every plugin declares its
settings as :class:`~misbridge.hooktypes.SettingField` values with a type, a default and
bounds; :func:`parse_settings` turns what was given into typed values and the canonical
text plugins read, or refuses it with a message naming the setting, where it was given
and what would be accepted. An unknown name is refused too, with the closest known name
suggested: a misspelt ``per_pgae`` never silently falls back to a default.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

from misbridge.errors import ConfigurationError
from misbridge.hooktypes import SettingField

__all__ = ["ParsedSettings", "parse_settings", "suggest", "unknown_name"]

_TRUE = frozenset({"yes", "y", "true", "on", "1"})
_FALSE = frozenset({"no", "n", "false", "off", "0"})


@frozen
class ParsedSettings:
    """``text``: canonical text per setting given (what ``ExtractContext.settings``
    holds); ``values``: the same parsed to the declared types, defaults included."""

    text: Mapping[str, str]
    values: Mapping[str, Any]


def suggest(name: str, known: Iterable[str]) -> str:
    """ ", did you mean 'x'?" for the closest known name, or ""."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_name(what: str, name: str, known: Iterable[str], where: str) -> ConfigurationError:
    names = sorted(known)
    return ConfigurationError(
        f"unknown {what} {name!r}{' ' + where if where else ''}{suggest(name, names)} "
        f"(known: {', '.join(names) or 'none'})",
        setting=name,
    )


def _number(field: SettingField, raw: object, where: str) -> float | int:
    kind = field.kind
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value: float | int = kind(raw)
        if kind is int and value != raw:
            raise ValueError
    else:
        value = kind(str(raw).strip())
    if field.minimum is not None and value < field.minimum:
        raise ConfigurationError(
            f"the setting {field.name!r} {where} must be at least {field.minimum:g}, not {value}",
            setting=field.name,
        )
    if field.maximum is not None and value > field.maximum:
        raise ConfigurationError(
            f"the setting {field.name!r} {where} must be at most {field.maximum:g}, not {value}",
            setting=field.name,
        )
    return value


def _parse(field: SettingField, raw: object, where: str) -> Any:
    kind = field.kind
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ValueError
        if kind in (int, float):
            return _number(field, raw, where)
    except (TypeError, ValueError):
        expected = {bool: "yes or no", int: "a whole number", float: "a number"}[kind]
        raise ConfigurationError(
            f"the setting {field.name!r} {where} must be {expected}, not {raw!r}",
            setting=field.name,
        ) from None
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ConfigurationError(
            f"the setting {field.name!r} {where} must be text, not {type(raw).__name__}",
            setting=field.name,
        )
    text = str(raw)  # as given: a report-name prefix may end in a space
    if field.choices:
        lowered = text.strip().lower()
        for choice in field.choices:
            if choice.lower() == lowered:
                return choice
        raise ConfigurationError(
            f"the setting {field.name!r} {where} must be one of {', '.join(field.choices)}, "
            f"not {text!r}",
            setting=field.name,
        )
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def parse_settings(
    mis: str,
    fields: Iterable[SettingField],
    given: Mapping[str, object],
    *,
    where: str = "",
) -> ParsedSettings:
    """Check ``given`` against the plugin's declared ``fields``.

    :param where: where the settings came from, for messages ("in misbridge.toml,
        school oakfield", "on the command line").
    :raises ConfigurationError: an unknown name (with a suggestion) or a bad value.
    """
    declared = {f.name: f for f in fields}
    place = where or "for " + mis
    text: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, raw in given.items():
        field = declared.get(name)
        if field is None:
            raise unknown_name(f"{mis} setting", name, declared, where)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue  # not given: the default applies
        value = _parse(field, raw, place)
        values[name] = value
        text[name] = _text(value)
    for name, field in declared.items():
        if name not in values and field.default not in (None, ""):
            values[name] = _parse(field, field.default, "(its default)")
    return ParsedSettings(text=text, values=values)
