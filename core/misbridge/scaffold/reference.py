"""The reference of the plugin API, generated from ``misbridge.plugin``'s docstrings.

``python -m misbridge.scaffold.reference > docs/plugin-api.md`` writes it; a test checks
the file is current, so a name the facade exports can never be missing from the docs.
"""

from __future__ import annotations

import enum
import inspect
from typing import Any

__all__ = ["render"]


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "exception"
        return "enum" if issubclass(obj, enum.Enum) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    return "value"


def _signature(name: str, obj: Any) -> str:
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _entry(name: str, obj: Any) -> list[str]:
    kind = _kind(obj)
    lines = [f"### `{name}` ({kind})", ""]
    if kind in ("class", "function", "exception"):
        lines += ["```python", _signature(name, obj), "```", ""]
    elif kind == "value":
        lines += [f"`{name} = {obj!r}`" if isinstance(obj, str) else f"`{name}`", ""]
    doc = inspect.getdoc(obj) if kind != "value" or not isinstance(obj, str | tuple) else None
    if doc and not (kind == "value" and doc == inspect.getdoc(type(obj))):
        lines += [doc, ""]
    if kind == "enum":
        lines += [", ".join(f"`{m.name}` (`{m.value}`)" for m in obj), ""]
    return lines


def render() -> str:
    import misbridge.plugin as api

    lines = [
        "# Plugin API reference",
        "",
        "<!-- Generated from the docstrings of misbridge.plugin: "
        "python -m misbridge.scaffold.reference > docs/plugin-api.md -->",
        "",
        inspect.getdoc(api) or "",
        "",
        "## Names",
        "",
    ]
    for name in sorted(api.__all__, key=str.lower):
        lines += _entry(name, getattr(api, name))
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the docs command
    print(render(), end="")
