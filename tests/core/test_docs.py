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


def test_the_plugin_api_reference_is_current() -> None:
    from misbridge.scaffold.reference import render

    current = (DOCS / "plugin-api.md").read_text(encoding="utf-8")
    assert current == render(), (
        "regenerate: python -m misbridge.scaffold.reference > docs/plugin-api.md"
    )


def test_the_plugin_api_reference_documents_every_facade_name() -> None:
    import misbridge.plugin as api

    reference = (DOCS / "plugin-api.md").read_text(encoding="utf-8")
    missing = [n for n in api.__all__ if f"### `{n}` (" not in reference]
    assert not missing, missing
