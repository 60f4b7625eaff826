"""The HTML audit report, opened in headless Chromium: what an archivist sees is the verdict,
the findings with their files and rows, the release's figures and a timeline of captures per
site; every text is escaped; the page needs no network and no script."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import lxml.html
import pytest
from audit_sample import OTHER_SITE, copy_release, read_rows, rewrite_rows, shared_release

from warcpack.audit import audit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(.ci/run installs Debian's chromium package)")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SimpleNamespace:
    return shared_release(tmp_path_factory)


def chromium(page: Path, tmp: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
         *mode, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True)


def dom(page: Path, tmp: Path) -> lxml.html.HtmlElement:
    """The page as Chromium built it."""
    return lxml.html.fromstring(chromium(page, tmp, "--dump-dom").stdout)


def text(node: lxml.html.HtmlElement) -> str:
    return " ".join(node.text_content().split())


def test_a_clean_release_shows_its_verdict_figures_and_timeline(sample, tmp_path):
    page, report_json = tmp_path / "audit.html", tmp_path / "audit.json"
    report = audit(sample.folder, sample.store, reextract_rows=0, html_report=page,
                   json_report=report_json)
    assert report.clean
    shown = dom(page, tmp_path)
    [verdict] = shown.xpath("//*[@id='verdict']")
    assert text(verdict).startswith("Clean: no findings") and "clean" in verdict.classes
    checks = shown.xpath("//*[@id='checks']//tbody/tr")
    assert [r.get("data-status") for r in checks] == ["clean"] * 5
    assert "No findings" in text(shown.xpath("//*[@id='findings']")[0])
    figures = {f.get("data-figure"): text(f.xpath(".//div[contains(@class, 'value')]")[0])
               for f in shown.xpath("//div[@class='figure']")}
    manifest = json.loads((sample.folder / "release.json").read_text("utf-8"))
    assert figures["rows"] == str(manifest["rows"]["rows"])
    assert figures["urls"] == str(manifest["rows"]["urls"])
    assert figures["first"] == manifest["rows"]["captured"]["first"]
    # the timeline: one lane per site, its dots the days with captures
    timeline = json.loads(report_json.read_text("utf-8"))["timeline"]
    lanes = {g.get("data-site"): g
             for g in shown.xpath("//*[@id='timeline']//svg//g[@class='lane']")}
    assert set(lanes) == {"127.0.0.1", "archive.example.org"}
    for site, lane in lanes.items():
        days = [p for p in timeline if p["site"] == site]
        assert lane.get("data-captures") == str(sum(p["captures"] for p in days))
        assert len(lane.xpath(".//circle")) == len(days)
        assert f"{site} ({sum(p['captures'] for p in days)})" in text(lane)
    assert sum(p["captures"] for p in timeline) == 11  # every record is a capture
    # nothing for the page to fetch or run
    html = page.read_text("utf-8")
    assert "<script" not in html and "http://" not in html.split("</style>")[0]
    assert shown.xpath("//link | //img | //iframe") == []


def test_findings_are_listed_with_their_files_and_rows_and_escaped(sample, tmp_path):
    target = copy_release(sample, tmp_path)
    rows = read_rows(target.folder)
    two = next(r for r in rows if r["url"].endswith("/notes/two"))
    fake = dict(json.loads(json.dumps(two)), id="f" * 32,
                url=f"{OTHER_SITE}/notes/<b>bold</b>")
    rewrite_rows(target.folder, [*rows, fake])
    (target.folder / "README.md").write_text("changed\n", "utf-8")
    page = tmp_path / "audit.html"
    report = audit(target.folder, target.store, reextract_rows=0, html_report=page)
    assert not report.clean
    shown = dom(page, tmp_path)
    [verdict] = shown.xpath("//*[@id='verdict']")
    assert text(verdict) == f"{report.finding_total} finding(s), {report.note_total} note(s)"
    assert verdict.get("data-exit-status") == "1"
    statuses = {r.get("data-check"): r.get("data-status")
                for r in shown.xpath("//*[@id='checks']//tbody/tr")}
    assert statuses["outputs"] == statuses["provenance"] == "findings"
    findings = shown.xpath("//*[@id='findings']//tr[@class='finding']")
    assert len(findings) == report.finding_total
    by_code = {}
    for row in findings:
        by_code.setdefault(row.get("data-code"), []).append(text(row))
    assert any("README.md" in t for t in by_code["output-changed"])
    [fabricated] = by_code["row-record-differs"]
    assert "f" * 32 in fabricated and f"{OTHER_SITE}/notes/<b>bold</b>" in fabricated
    assert shown.xpath("//*[@id='findings']//b") == []  # the URL stayed text


def test_the_page_renders_and_is_the_same_for_the_same_audit(sample, tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    audit(sample.folder, sample.store, reextract_rows=0, html_report=first)
    audit(sample.folder, sample.store, reextract_rows=0, html_report=second)
    assert first.read_bytes() == second.read_bytes()
    shot = tmp_path / "audit.png"
    chromium(first, tmp_path, f"--screenshot={shot}", "--window-size=1200,1800")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
