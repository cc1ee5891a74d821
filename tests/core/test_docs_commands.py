"""Commands the docs show are commands misbridge accepts."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from misbridge.cli_kit import IsoMoment

DOCS = [
    *Path(__file__).resolve().parents[2].glob("docs/**/*.md"),
    Path(__file__).resolve().parents[2] / "README.md",
]


def _text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in DOCS if p.name != "cli-reference.md")


def test_every_since_in_the_docs_is_a_moment_with_its_zone() -> None:
    shown = re.findall(r"--since[ =]([0-9][0-9T:.+\-Z]+)", _text())
    assert shown, "the docs show no --since at all"
    for value in shown:
        IsoMoment().convert(value, None, None)  # raises for a naive time


def test_a_naive_since_would_have_been_caught() -> None:
    with pytest.raises(click.BadParameter, match="no time zone"):
        IsoMoment().convert("2026-11-01T00:00", None, None)


def test_every_approval_in_the_docs_names_its_extract_folder() -> None:
    for line in _text().splitlines():
        match = re.search(r"misbridge store apply (\S+)? ?--approve", line)
        if match:
            assert match[1] and not match[1].startswith("--"), line
