"""The audit as one HTML page an archivist can open: the verdict, each check, the findings, the
release's figures and a timeline of captures per site.

Self-contained (inline CSS and SVG, no script, nothing fetched), every text escaped, and the
same audit gives the same bytes.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from warcpack import __version__
from warcpack.audit.findings import CHECKS, FINDING, NOTE, Finding, Ledger
from warcpack.audit.report import AuditReport
from warcpack.store.atomic import fsync_dir

MAX_FINDINGS = 400  # rows of the findings table per check (the JSON report has them all)
MAX_NOTES = 100  # per check
MAX_SITES = 40

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1d2430;background:#f6f7f9;margin:0}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;
 border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.verdict{display:inline-block;font-weight:600;font-size:17px;padding:6px 14px;border-radius:6px;
 margin:10px 0}
.clean{background:#e3f4e8;color:#14532d;border:1px solid #9bd3ad}
.findings{background:#fdecec;color:#7f1d1d;border:1px solid #f1a7a7}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.meta dt{color:#5b6472}dl.meta dd{margin:0;word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5d9e0}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{background:#eef1f5;font-weight:600;font-size:13px;color:#39414e}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;
 white-space:nowrap}
td.where{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;
 word-break:break-all;width:38%}
.ok{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}
.skip{color:#92400e;font-size:13px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.figure{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:10px 12px}
.figure .value{font-size:22px;font-weight:600}.figure .value.when{font-size:15px}
.figure .label{color:#5b6472;font-size:13px}
svg{background:#fff;border:1px solid #d5d9e0;border-radius:6px;max-width:100%;height:auto}
svg text{font:12px system-ui,"DejaVu Sans",sans-serif;fill:#39414e}
.muted{color:#5b6472;font-size:13px}
"""


def write_html(report: AuditReport, ledger: Ledger, path: Path) -> None:
    """Write the page atomically."""
    data = render(report, list(ledger.items(FINDING, MAX_FINDINGS)),
                  list(ledger.items(NOTE, MAX_NOTES))).encode("utf-8")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def render(report: AuditReport, findings: list[Finding], notes: list[Finding]) -> str:
    what = f"release {report.release}" if report.release else "build"
    state = "clean" if report.clean else "findings"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>warcpack audit of {_e(what)}: {_e(report.verdict())}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>Audit of {_e(what)}</h1>",
        f'<div id="verdict" class="verdict {state}" data-exit-status="{report.exit_status}">'
        f"{_e(report.verdict()[0].upper() + report.verdict()[1:])}</div>",
        _meta(report),
        _checks(report),
        _findings(report, findings),
        _figures(report),
        _timeline(report.timeline),
        _notes(report, notes),
        f'<p class="muted">warcpack {_e(__version__)}. The JSON report (<code>--json</code>) '
        "lists every finding, note and record-level detail.</p>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(report: AuditReport) -> str:
    again = report.reextract
    mode = ("every row" if again.get("mode") == "all"
            else f"a sample of {again.get('sample')} row(s), seeded by the manifest's sha256")
    items = [
        ("Corpus", report.target), ("Kind", report.kind), ("Store", report.store),
        ("Re-extraction", f"{mode}: {again.get('rows', 0)} row(s) from "
                          f"{again.get('records', 0)} record(s) of {again.get('urls', 0)} URL(s)"),
        ("Manifest sha256", again.get("seed")),
    ]
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return f'<dl class="meta" id="meta">{body}</dl>'


def _checks(report: AuditReport) -> str:
    rows = []
    for name in CHECKS:
        check = report.checks[name]
        status = ('<span class="bad">findings</span>' if check.findings
                  else '<span class="ok">clean</span>')
        skipped = "".join(f'<div class="skip">Skipped: {_e(s)}</div>' for s in check.skipped)
        rows.append(
            f'<tr data-check="{_e(name)}" data-status="{check.status}"><td>{_e(name)}</td>'
            f"<td>{status}</td><td>{_e(check.summary)}{skipped}</td>"
            f'<td class="num">{check.findings}</td><td class="num">{check.notes}</td></tr>')
    return ('<section id="checks"><h2>Checks</h2><table><thead><tr><th>Check</th><th>Status'
            "</th><th>What was checked</th><th>Findings</th><th>Notes</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")


def _where_cells(item: Finding) -> str:
    """One cell: the file (and byte offset), the row, the URL: whichever are known."""
    lines = []
    if item.file is not None:
        lines.append(f'<span class="file">{_e(item.file)}</span>')
    if item.offset is not None:
        lines.append(f'offset <span class="offset">{item.offset}</span>')
    if item.row is not None:
        lines.append(f'row <span class="row">{_e(item.row)}</span>')
    if item.url is not None:
        lines.append(f'<span class="url">{_e(item.url)}</span>')
    return f'<td class="where">{"<br>".join(lines)}</td>'


def _findings(report: AuditReport, findings: list[Finding]) -> str:
    head = f'<section id="findings"><h2>Findings ({report.finding_total})</h2>'
    if not findings:
        return head + '<p class="ok">No findings: the corpus is what its manifest says.</p>' \
            "</section>"
    rows = "".join(
        f'<tr class="finding" data-check="{_e(f.check)}" data-code="{_e(f.code)}">'
        f"<td>{_e(f.check)}</td><td class=\"code\">{_e(f.code)}</td>{_where_cells(f)}"
        f"<td>{_e(f.message)}</td></tr>" for f in findings)
    more = report.finding_total - len(findings)
    tail = f'<p class="muted">... and {more} more in the JSON report.</p>' if more > 0 else ""
    return (head + "<table><thead><tr><th>Check</th><th>Kind</th><th>Where</th>"
            "<th>Finding</th></tr></thead><tbody>" + rows + "</tbody></table>"
            + tail + "</section>")


def _figure(key: str, label: str, value: Any, kind: str = "") -> str:
    return (f'<div class="figure" data-figure="{_e(key)}"><div class="value {kind}">'
            f'{_e(value)}</div><div class="label">{_e(label)}</div></div>')


def _figures(report: AuditReport) -> str:
    f = report.figures
    captured = f.get("captured") or {}
    fixity = f.get("fixity") or {}
    red = f.get("redistributable") or {}
    cards = [
        _figure("rows", "rows (metadata config)", f.get("rows")),
        _figure("text_rows", "rows in the text config", f.get("text_rows")),
        _figure("urls", "pages (URLs)", f.get("urls")),
        _figure("records", "records read from the WARC files", f.get("records")),
        _figure("identical_recaptures", "identical re-captures", f.get("identical_recaptures")),
        _figure("skipped", "records skipped with a reason", f.get("skipped")),
        _figure("warc_files", "WARC files", fixity.get("files")),
        _figure("warc_bytes", "WARC bytes", fixity.get("bytes")),
        _figure("first", "first capture", captured.get("first") or "-", "when"),
        _figure("last", "last capture", captured.get("last") or "-", "when"),
        _figure("redistributable", "redistributable (true / false / unknown)",
                f"{red.get('true', 0)} / {red.get('false', 0)} / {red.get('unknown', 0)}"),
    ]
    tables = [_count_table("sites", "Rows per site", "Site", f.get("sites") or {}),
              _count_table("skips", "Skipped records by reason", "Reason",
                           f.get("skipped_by_reason") or {}),
              _count_table("languages", "Rows per language", "Language",
                           f.get("languages") or {})]
    digests = {f"block digest {k}": v for k, v in (fixity.get("block_digest") or {}).items()}
    digests.update({f"payload digest {k}": v
                    for k, v in (fixity.get("payload_digest") or {}).items()})
    tables.append(_count_table("digests", "Record digests", "Result", digests))
    return ('<section id="figures"><h2>The release in figures</h2><div class="figures">'
            + "".join(cards) + "</div>" + "".join(tables) + "</section>")


def _count_table(key: str, title: str, label: str, counts: dict[str, int]) -> str:
    if not counts:
        return ""
    rows = "".join(f'<tr><td>{_e(k)}</td><td class="num">{_e(v)}</td></tr>'
                   for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return (f'<h3>{_e(title)}</h3><table id="{_e(key)}"><thead><tr><th>{_e(label)}</th>'
            f"<th>Count</th></tr></thead><tbody>{rows}</tbody></table>")


def _timeline(points: list[dict[str, Any]]) -> str:
    """An SVG: one lane per site, a dot per day with captures (area ~ captures)."""
    head = '<section id="timeline"><h2>Captures per site</h2>'
    if not points:
        return head + "<p>No captures.</p></section>"
    by_site: dict[str, dict[str, int]] = defaultdict(dict)
    for p in points:
        by_site[p["site"]][p["day"]] = p["captures"]
    sites = sorted(by_site, key=lambda s: (-sum(by_site[s].values()), s))
    hidden = sites[MAX_SITES:]
    sites = sites[:MAX_SITES]
    days = sorted({p["day"] for p in points})
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    span = max((last - first).days, 1)
    label_w, plot_w, lane_h, top = 210, 760, 34, 28
    width, height = label_w + plot_w + 30, top + lane_h * len(sites) + 44
    peak = max(p["captures"] for p in points)

    def x(day: str) -> float:
        return label_w + 10 + (date.fromisoformat(day) - first).days / span * (plot_w - 20)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="Captures per site per day">']
    for i, site in enumerate(sites):
        y = top + lane_h * i + lane_h / 2
        total = sum(by_site[site].values())
        short = site if len(site) <= 28 else site[:27] + "…"
        out.append(f'<g class="lane" data-site="{_e(site)}" data-captures="{total}">'
                   f'<text x="8" y="{y + 4:.1f}">{_e(short)} ({total})</text>'
                   f'<line x1="{label_w}" y1="{y:.1f}" x2="{label_w + plot_w}" y2="{y:.1f}" '
                   'stroke="#e1e5eb"/>')
        for day, n in sorted(by_site[site].items()):
            r = 3 + 9 * (n / peak) ** 0.5
            out.append(f'<circle cx="{x(day):.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#2563eb" '
                       f'fill-opacity="0.7"><title>{_e(site)}, {_e(day)}: {n} capture(s)'
                       "</title></circle>")
        out.append("</g>")
    axis_y = top + lane_h * len(sites) + 8
    out.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" '
               'stroke="#9aa3af"/>')
    ticks = sorted({days[0], days[-1]} | {days[round(i * (len(days) - 1) / 4)]
                                         for i in range(5)})
    placed: list[float] = []
    for day in ticks:
        at = x(day)
        if any(abs(at - p) < 80 for p in placed):
            continue
        placed.append(at)
        out.append(f'<line x1="{at:.1f}" y1="{axis_y}" x2="{at:.1f}" y2="{axis_y + 5}" '
                   f'stroke="#9aa3af"/><text x="{at:.1f}" y="{axis_y + 20}" '
                   f'text-anchor="middle">{_e(day)}</text>')
    out.append("</svg>")
    note = (f'<p class="muted">{len(hidden)} more site(s) with fewer captures are in the JSON '
            "report.</p>" if hidden else "")
    return head + "".join(out) + note + "</section>"


def _notes(report: AuditReport, notes: list[Finding]) -> str:
    head = f'<section id="notes"><h2>Notes ({report.note_total})</h2>'
    if not notes:
        return head + "<p>No notes.</p></section>"
    counts = "".join(
        f'<li data-code="{_e(code)}">{_e(check)}: {_e(code)}: {n}</li>'
        for check, codes in sorted(report.note_counts.items())
        for code, n in sorted(codes.items()))
    rows = "".join(
        f'<tr class="note" data-code="{_e(n.code)}"><td>{_e(n.check)}</td>'
        f'<td class="code">{_e(n.code)}</td>{_where_cells(n)}<td>{_e(n.message)}</td></tr>'
        for n in notes)
    more = report.note_total - len(notes)
    tail = f'<p class="muted">... and {more} more in the JSON report.</p>' if more > 0 else ""
    return (head + f"<ul>{counts}</ul><table><thead><tr><th>Check</th><th>Kind</th><th>Where"
            "</th><th>Note</th></tr></thead><tbody>" + rows
            + "</tbody></table>" + tail + "</section>")
