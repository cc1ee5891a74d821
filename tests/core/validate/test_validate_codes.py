from __future__ import annotations

import re
import string
from pathlib import Path

from misbridge.validate.codes import CODES, make_error, markdown_table, mis_title

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
            code, dataset="students", mis="arbor", mis_id="9", label="admission number 1", **details
        )
        assert error.message[0].isupper() and "Arbor" in error.message
        assert error.stage is spec.stage and error.severity is spec.severity


def test_mis_titles() -> None:
    assert [mis_title(m) for m in ("sims", "ARBOR", "wonde", "acme-mis", None)] == [
        "SIMS",
        "Arbor",
        "Wonde",
        "acme-mis",
        "the MIS",
    ]
