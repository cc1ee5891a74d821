"""JSON Lines, spreadsheet-safe CSV and the self-contained HTML report."""

from __future__ import annotations

import csv
import json
import stat
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from misbridge.errors import RecordError, Severity, Stage
from misbridge.report import COLUMNS, neutralise, restore, write_reports
from misbridge.report.csvsafe import DANGEROUS_STARTS
from misbridge.validate import make_error

SUMMARY = {
    "mis": "sims",
    "started": "2026-03-01T08:00:00+00:00",
    "finished": "2026-03-01T08:01:00+00:00",
    "ok": False,
    "datasets": {
        "students": {"status": "complete", "records": 1200, "rejected": 2, "message": None},
        "groups": {"status": "partial", "records": 10, "rejected": 0, "message": "HTTP 503"},
    },
}


def sample_errors() -> list[RecordError]:
    return [
        make_error(
            "MB2002", dataset="students", mis="sims", mis_id="1", label="admission number 001234"
        ),
        make_error(
            "MB3001",
            dataset="students",
            mis="sims",
            mis_id="2",
            label="admission number 000777",
            field="date_of_birth",
            what="date of birth",
        ),
        RecordError(
            dataset="students",
            mis_id='=HYPERLINK("http://evil")',
            field="username",
            code="MB8001",
            message='<script>alert("x")</script> & more',
            stage=Stage.PROCESSING,
            severity=Severity.ERROR,
            record_label="-2+3",
            mis="sims",
        ),
    ]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:  # keep CR in cells exactly
        return list(csv.DictReader(handle))


def test_writes_three_private_files(tmp_path: Path) -> None:
    paths = write_reports(sample_errors(), SUMMARY, tmp_path / "out")
    assert [p.name for p in paths] == ["errors.jsonl", "errors.csv", "report.html"]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_jsonl_holds_only_the_error_columns(tmp_path: Path) -> None:
    errors = sample_errors()
    write_reports(errors, SUMMARY, tmp_path)
    lines = (tmp_path / "errors.jsonl").read_text("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [tuple(r) for r in rows] == [COLUMNS] * 3
    assert [RecordError.from_dict(r) for r in rows] == errors


def test_csv_is_neutralised_and_restores(tmp_path: Path) -> None:
    errors = sample_errors()
    write_reports(errors, SUMMARY, tmp_path)
    assert (tmp_path / "errors.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = read_csv(tmp_path / "errors.csv")
    assert rows[2]["mis_id"] == '\'=HYPERLINK("http://evil")'
    assert rows[2]["record_label"] == "'-2+3"
    for row in rows:
        assert not any(v.startswith(DANGEROUS_STARTS[:-1]) for v in row.values())
    assert {k: restore(v) for k, v in rows[2].items()}["mis_id"] == errors[2].mis_id


def test_empty_run_still_writes_reports(tmp_path: Path) -> None:
    write_reports([], {"mis": "wonde", "ok": True}, tmp_path)
    assert (tmp_path / "errors.jsonl").read_text() == ""
    assert read_csv(tmp_path / "errors.csv") == []
    assert "No record has a problem" in (tmp_path / "report.html").read_text()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_html_is_self_contained_escaped_and_counts(tmp_path: Path) -> None:
    write_reports(sample_errors(), SUMMARY, tmp_path)
    html = (tmp_path / "report.html").read_text("utf-8")
    parsed = _Collector()
    parsed.feed(html)
    # No external assets of any kind, and a policy that forbids loading them.
    assert not {"link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not [a for a in parsed.attrs if a[0] in ("src", "href")]
    assert "default-src 'none'" in html
    # Everything from the data is escaped: one static script only.
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert len(parsed.scripts) == 1 and "alert" not in parsed.scripts[0]
    # Counts per dataset and code, outcomes, the filter controls and every row.
    assert 'data-code="MB2002"' in html and "What to do" in html
    assert "partial" in html and "HTTP 503" in html
    for control in ('id="q"', 'id="f-dataset"', 'id="f-code"', 'id="f-severity"'):
        assert control in html
    assert html.count('<tr data-dataset="students"') == 3
    assert "misbridge report: SIMS" in html


cells = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20
) | st.sampled_from(["=1+1", "+44 7700", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''", "'"])


@given(cells)
def test_neutralise_round_trip(cell: str) -> None:
    safe = neutralise(cell)
    assert restore(safe) == cell
    assert not safe.startswith(DANGEROUS_STARTS[:-1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), max_size=5))
def test_csv_file_round_trip(tmp_path_factory: object, rows: list[tuple[str, str, str]]) -> None:
    errors = [
        RecordError(dataset="students", mis_id=a, field=b, code="MB2001", message=c, mis="x")
        for a, b, c in rows
    ]
    out = tmp_path_factory.mktemp("csv")  # type: ignore[attr-defined]
    write_reports(errors, {}, out)
    back = read_csv(out / "errors.csv")
    got = [(restore(r["mis_id"]), restore(r["field"]), restore(r["message"])) for r in back]
    want = [(a, b or "", c) for a, b, c in rows]
    assert got == want
