"""The single-file HTML report a school's data manager opens in a browser.

No external assets: CSS and the filtering script are inline and a Content-Security-
Policy forbids loading anything else. Every value is HTML-escaped; the script is
static and only shows or hides rows that were rendered here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from misbridge.errorcodes import CODES, mis_title

__all__ = ["render_html"]

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:20px 28px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 18px;
margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceef1;vertical-align:top}
th{background:#f0f2f5;font-weight:600;position:sticky;top:0}
.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.error{background:#fde2e1;color:#9b1c1c}.warning{background:#fff1c2;color:#7a5200}
.complete{background:#dcf5e3;color:#146c2e}.partial,.failed{background:#fde2e1;color:#9b1c1c}
.unsupported{background:#eceef1;color:#444}
.filters{display:flex;gap:10px;flex-wrap:wrap;margin:0 0 10px}
.filters input{flex:1;min-width:240px}input,select{font:inherit;padding:5px 8px;
border:1px solid #c4cad2;border-radius:6px}tr.pick{cursor:pointer}tr.pick:hover{background:#f3f7fc}
code{font-size:13px}.muted{color:#5c6570}
"""

_JS = """
(function () {
  var q = document.getElementById("q"), ds = document.getElementById("f-dataset"),
      code = document.getElementById("f-code"), sev = document.getElementById("f-severity"),
      shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#errors tbody tr"));
  var text = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function apply() {
    var t = q.value.toLowerCase(), n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = (!t || text[i].indexOf(t) >= 0) &&
        (!ds.value || r.getAttribute("data-dataset") === ds.value) &&
        (!code.value || r.getAttribute("data-code") === code.value) &&
        (!sev.value || r.getAttribute("data-severity") === sev.value);
      r.hidden = !ok; if (ok) { n++; }
    }
    shown.textContent = String(n);
  }
  [q, ds, code, sev].forEach(function (e) { e.addEventListener("input", apply); });
  Array.prototype.forEach.call(document.querySelectorAll("tr.pick"), function (r) {
    r.addEventListener("click", function () {
      ds.value = r.getAttribute("data-dataset"); code.value = r.getAttribute("data-code");
      sev.value = ""; q.value = ""; apply();
      document.getElementById("errors").scrollIntoView();
    });
  });
  apply();
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _options(values: Sequence[str], label: str) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return f'<option value="">{_e(label)}</option>{options}'


def _outcomes(summary: Mapping[str, Any]) -> str:
    datasets = summary.get("datasets") or {}
    if not isinstance(datasets, Mapping) or not datasets:
        return ""
    rows = []
    for name, outcome in datasets.items():
        o = outcome if isinstance(outcome, Mapping) else {}
        status = str(o.get("status", ""))
        rows.append(
            f"<tr><td>{_e(name)}</td>"
            f'<td><span class="badge {_e(status)}">{_e(status)}</span></td>'
            f'<td class="num">{_e(o.get("records", ""))}</td>'
            f'<td class="num">{_e(o.get("rejected", ""))}</td>'
            f'<td class="muted">{_e(o.get("message") or "")}</td></tr>'
        )
    return (
        "<section><h2>Datasets</h2><table><thead><tr><th>Dataset</th><th>Status</th>"
        '<th class="num">Records</th><th class="num">Rejected</th><th>Note</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _counts(rows: Sequence[Mapping[str, Any]]) -> str:
    counts = Counter((str(r["dataset"]), str(r["code"]), str(r["severity"])) for r in rows)
    if not counts:
        return "<section><h2>Problems</h2><p>No record has a problem.</p></section>"
    body = []
    for (dataset, code, severity), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        spec = CODES.get(code)
        body.append(
            f'<tr class="pick" data-dataset="{_e(dataset)}" data-code="{_e(code)}" '
            'title="Show these records">'
            f"<td>{_e(dataset)}</td><td><code>{_e(code)}</code></td>"
            f'<td><span class="badge {_e(severity)}">{_e(severity)}</span></td>'
            f'<td class="num">{n}</td><td>{_e(spec.meaning if spec else "")}</td>'
            f"<td>{_e(spec.action if spec else '')}</td></tr>"
        )
    return (
        "<section><h2>Problems by dataset and code</h2><table><thead><tr><th>Dataset</th>"
        '<th>Code</th><th>Severity</th><th class="num">Records</th><th>Meaning</th>'
        f"<th>What to do</th></tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _error_table(rows: Sequence[Mapping[str, Any]]) -> str:
    datasets = sorted({str(r["dataset"]) for r in rows})
    codes = sorted({str(r["code"]) for r in rows})
    body = "".join(
        f'<tr data-dataset="{_e(r["dataset"])}" data-code="{_e(r["code"])}" '
        f'data-severity="{_e(r["severity"])}">'
        f"<td>{_e(r['dataset'])}</td><td>{_e(r['record_label'] or r['mis_id'])}</td>"
        f"<td>{_e(r['field'])}</td><td><code>{_e(r['code'])}</code></td>"
        f'<td><span class="badge {_e(r["severity"])}">{_e(r["severity"])}</span></td>'
        f"<td>{_e(r['stage'])}</td><td>{_e(r['message'])}</td></tr>"
        for r in rows
    )
    return (
        '<section><h2>Records with problems (<span id="shown">'
        f"{len(rows)}</span> of {len(rows)} shown)</h2>"
        '<div class="filters"><input id="q" type="search" '
        'placeholder="Search: admission number, MIS id, field, message..." aria-label="Search">'
        f'<select id="f-dataset" aria-label="Dataset">{_options(datasets, "All datasets")}</select>'
        f'<select id="f-code" aria-label="Code">{_options(codes, "All codes")}</select>'
        '<select id="f-severity" aria-label="Severity">'
        f"{_options(['error', 'warning'], 'Errors and warnings')}</select></div>"
        '<table id="errors"><thead><tr><th>Dataset</th><th>Record</th><th>Field</th>'
        "<th>Code</th><th>Severity</th><th>Stage</th><th>What to do</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )


def render_html(rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    """The whole report as one HTML document. ``rows`` are the error dicts."""
    title = f"misbridge report: {summary.get('mis_title') or mis_title(summary.get('mis'))}"
    errors = sum(1 for r in rows if r["severity"] == "error")
    warnings = len(rows) - errors
    started = summary.get("started") or ""
    finished = summary.get("finished") or ""
    status = "completed" if summary.get("ok", True) else "did not complete every dataset"
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>Run {_e(started)} to {_e(finished)}: "
        f"{_e(status)}. {errors} errors (records not imported), {warnings} warnings "
        "(imported; worth a look).</p></header><main>"
        f"{_outcomes(summary)}{_counts(rows)}{_error_table(rows)}"
        f"</main><script>{_JS}</script></body></html>\n"
    )
