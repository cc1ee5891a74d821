from __future__ import annotations

import re
import string
from pathlib import Path

from misbridge.errorcodes import CODES, make_error, markdown_table, mis_title
from misbridge.plugins import get_plugin_manager

from ..toy_mis import ToyPlugin

ROOT = Path(__file__).resolve().parents[3]


def test_docs_table_is_the_code_table() -> None:
    doc = (ROOT / "docs" / "error-codes.md").read_text("utf-8")
    assert markdown_table() in doc, "regenerate docs/error-codes.md from markdown_table()"


def test_every_code_used_in_the_core_is_documented() -> None:
    used: set[str] = set()
    for path in (ROOT / "core" / "misbridge").rglob("*.py"):
        used |= set(re.findall(r'"(MB\d{4})"', path.read_text("utf-8")))
    assert used <= set(CODES), sorted(used - set(CODES))


def test_codes_are_well_formed_and_templates_render() -> None:
    for code, spec in CODES.items():
        assert re.fullmatch(r"MB\d{4}", code) and spec.code == code
        slots = {name for _, name, _, _ in string.Formatter().parse(spec.template) if name}
        assert "mis" in slots, code
        assert "label" in slots or code == "MB1001", code  # a record without an id has no label
        details = {name: f"<{name}>" for name in slots - {"mis", "label"}}
        error = make_error(
            code,
            dataset="students",
            mis="arbor",
            mis_id="9",
            label="admission number 1",
            title="Arbor",
            **details,
        )
        assert error.message[0].isupper() and "Arbor" in error.message
        assert error.stage is spec.stage and error.severity is spec.severity


def test_mis_titles_come_from_the_loaded_plugins() -> None:
    # The core names no MIS itself: a third-party plugin's title is used as soon as the
    # plugin manager has read its MisInfo, and an MIS no plugin describes keeps its name.
    assert mis_title("acme-mis") == "acme-mis"
    assert mis_title(None) == "the MIS"
    get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin())])
    assert mis_title("toy") == mis_title("TOY") == "Toy MIS"
    error = make_error("MB1500", dataset="students", mis="toy", mis_id="1", label="pupil 1")
    assert "in Toy MIS for pupil 1" in error.message
