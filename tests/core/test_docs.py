"""The hook reference documents every hook, with its exact signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from misbridge.plugins import get_plugin_manager

DOCS = Path(__file__).parents[2] / "docs"
HOOKS = sorted(
    (name, caller.spec.argnames)
    for name, caller in vars(get_plugin_manager(load_entrypoints=False).pm.hook).items()
    if not name.startswith("_") and caller.spec is not None
)


def test_every_hookspec_is_found() -> None:
    assert len(HOOKS) >= 11


@pytest.mark.parametrize(("name", "argnames"), HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_documented_with_its_signature(name: str, argnames: tuple[str, ...]) -> None:
    reference = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert f"## {name}({', '.join(argnames)})" in reference
