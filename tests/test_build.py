"""`warcpack build` end to end: a WARC written with warcio (real benchmark pages, a PDF, a PNG, an
empty body, a 404, a revisit, a mislabelled windows-1251 page), ingested into a real store, built
with the real extractor, loaded back with the real `datasets` and checked against the schema."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from store_helpers import tree
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import warcpack.extract
from warcpack.build import BuildError, build
from warcpack.cli import app
from warcpack.plan import WorkUnit, plan, split_file
from warcpack.row import Extracted, validate
from warcpack.store import Store
from warcpack.store.ingest import ingest

SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCH = SHARED / "benchmark" / "article-extraction"
FREE_URL = "https://blog.example.org/2025/07/open-notes"
RU_URL = "https://news.example.ru/holiday"
FREE_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Open notes</title>"
    "<link rel='license' href='https://creativecommons.org/licenses/by/4.0/'></head><body>"
    "<article><h1>Open notes on archiving</h1>"
    + "".join(f"<p>Paragraph {i}: web archives keep the bytes a crawler saw, so a corpus built "
              f"from them can be checked and rebuilt long after the pages have changed.</p>"
              for i in range(6))
    + "</article><footer>Text licensed CC BY 4.0</footer></body></html>"
).encode("utf-8")
RU_PAGE = (
    "<html><head><title>Праздник</title></head><body><article><h1>Праздник в городе</h1>"
    + "<p>Сегодня в городе прошёл большой праздник, на который пришли тысячи жителей.</p>" * 6
    + "</article></body></html>"
).encode("cp1251")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b""))


def write_warc(path: Path) -> list[str]:
    """The test crawl; returns the URLs of the benchmark pages in it."""
    truth = json.loads((BENCH / "ground-truth.json").read_text("utf-8"))
    ids = sorted(truth)[:3]
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)

        def response(url, body, ctype, status="200 OK", day=3):
            http = StatusAndHeaders(status, [("Content-Type", ctype),
                                             ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": f"2025-07-{day:02d}T10:00:00Z"})
            writer.write_record(record)
            return record

        first = None
        for day, page_id in enumerate(ids, 1):
            body = gzip.decompress((BENCH / "html" / f"{page_id}.html.gz").read_bytes())
            record = response(truth[page_id]["url"], body, "text/html; charset=utf-8", day=day)
            first = first or record
        response(FREE_URL, FREE_PAGE, "text/html; charset=utf-8", day=4)
        response("https://example.org/report.pdf", PDF, "application/pdf")
        response("https://example.org/logo.png", _png(), "image/png")
        response("https://example.org/empty", b"", "text/html")
        response("https://example.org/gone", b"<html><body><h1>Not found</h1></body></html>",
                 "text/html", status="404 Not Found")
        response(RU_URL, RU_PAGE, "text/html; charset=utf-8", day=5)
        headers = first.rec_headers
        revisit = writer.create_revisit_record(
            headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Payload-Digest"),
            headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2025-07-09T10:00:00Z",
                               "WARC-Refers-To": headers.get_header("WARC-Record-ID")})
        writer.write_record(revisit)
    return [truth[i]["url"] for i in ids]


pytestmark = pytest.mark.usefixtures("offline_hf")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> tuple[Path, list[str]]:
    """A store holding the test crawl, and the benchmark URLs in it."""
    base = tmp_path_factory.mktemp("crawl")
    urls = write_warc(base / "crawl.warc.gz")
    ingest([base / "crawl.warc.gz"], base / "store")
    return base / "store", urls


@pytest.fixture(scope="module")
def corpus(crawl, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("built") / "corpus"
    return out, build(crawl[0], out, workers=1, progress=False)


def jsonl_rows(out: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted((out / "data" / "text").glob("*.jsonl"))
            for line in shard.read_text("utf-8").splitlines()]


def parquet_column(folder: Path, column: str) -> list:
    return [v for shard in sorted(folder.glob("*.parquet"))
            for v in pq.read_table(shard, columns=[column]).column(column).to_pylist()]


def offset_of(store: Path, url: str) -> tuple[str, int]:
    entry = Store.open(store).captures(url)[0]
    return entry.filename, entry.offset


def test_build_counts_rows_and_skips_by_reason(corpus, crawl):
    out, summary = corpus
    assert summary.ok and summary.records_seen == 10
    # the revisit has the same content as its original: counted in that row, no row of its own
    assert summary.rows_written == summary.text_rows == 5 and summary.recaptures == 1
    assert dict(summary.skipped_by_reason) == {"not-html": 2, "empty": 1, "http-status": 1}
    saved = json.loads((out / "build-summary.json").read_text("utf-8"))
    assert saved["skipped_by_reason"] == {"empty": 1, "http-status": 1, "not-html": 2}
    pdf = offset_of(crawl[0], "https://example.org/report.pdf")
    gone = offset_of(crawl[0], "https://example.org/gone")
    listed = [(s["warc_file"], s["offset"], s["reason"]) for s in saved["skipped"]]
    assert (*pdf, "not-html") in listed and (*gone, "http-status") in listed
    assert listed == sorted(listed, key=lambda s: (s[0], s[1]))
    assert saved["extractor_versions"] == warcpack.extract.extractor_versions()
    assert saved["text_policy"] == "all" and saved["schema_version"] == "1.1.0"


def test_rows_validate_and_keep_their_provenance(corpus, crawl):
    out, _ = corpus
    rows = jsonl_rows(out)
    for row in rows:
        validate(row)
    by_url: dict[str, list[dict]] = {}
    for row in rows:
        by_url.setdefault(row["url"], []).append(row)
    first_url = crawl[1][0]
    [original] = by_url[first_url]  # its revisit adds a capture, not a row
    assert original["provenance"]["warc_type"] == "response"
    assert original["provenance"]["warc_offset"] == offset_of(crawl[0], first_url)[1]
    assert (original["revision"], original["captures"], original["previous_id"]) == (1, 2, None)
    assert original["date_first_captured"] == original["date_captured"] == "2025-07-01T10:00:00Z"
    assert original["date_last_captured"] == "2025-07-09T10:00:00Z"  # the revisit's WARC-Date
    assert [r["url"] for r in rows] == sorted(r["url"] for r in rows)  # by URL, then revision
    russian = by_url[RU_URL][0]
    assert "Сегодня в городе прошёл большой праздник" in russian["text"]
    assert russian["provenance"]["charset"] == "windows-1251"
    assert by_url[FREE_URL][0]["license"]["redistributable"] is True


def test_load_dataset_offline_both_configs_with_utc_timestamps(corpus, tmp_path):
    from datasets import load_dataset

    out, _ = corpus
    text = load_dataset(str(out), cache_dir=str(tmp_path))["train"]
    meta = load_dataset(str(out), "metadata", cache_dir=str(tmp_path))["train"]
    assert text.num_rows == meta.num_rows == 5 and "text" not in meta.column_names
    for name in ("date_published", "date_captured"):
        assert text.features[name].dtype == meta.features[name].dtype == "timestamp[us, tz=UTC]"
    published = 0
    for got, want in zip(text, jsonl_rows(out), strict=True):
        assert got["id"] == want["id"]
        for name in ("date_published", "date_modified", "date_captured", "http_last_modified"):
            expected = (datetime.fromisoformat(want[name]).astimezone(UTC)
                        if want[name] else None)
            assert got[name] == expected, name
            published += name == "date_published" and expected is not None
    assert published >= 3  # the benchmark pages carry publication dates


def test_units_cover_whole_files_in_offset_order():
    assert split_file("a.warc.gz", [40, 0, 20, 10, 30], 2) == [
        WorkUnit("a.warc.gz", 0, 20, 2), WorkUnit("a.warc.gz", 20, 40, 2),
        WorkUnit("a.warc.gz", 40, None, 1)]
    # A file the index knows nothing of (all damaged) is still read, whole.
    assert split_file("b.warc.gz", [], 2) == [WorkUnit("b.warc.gz", 0, None, 0)]


def test_same_store_gives_identical_corpus_whatever_workers_path_and_zone(crawl, tmp_path):
    store, _ = crawl
    units = plan(Store.open(store), 3)
    assert len(units) >= 3 and len({u.file for u in units}) == 1  # workers share one file
    code = ("import sys; from pathlib import Path; from warcpack.build import build; "
            "build(Path(sys.argv[1]), Path(sys.argv[2]), workers=int(sys.argv[3]), "
            "unit_records=3, progress=sys.argv[3] == '2')")
    for workers, zone, out in ((1, "UTC", "one"), (2, "America/St_Johns", "two/deeper")):
        env = {**os.environ, "TZ": zone, "LC_ALL": "C"}
        subprocess.run([sys.executable, "-c", code, str(store), str(tmp_path / out),
                        str(workers)], check=True, env=env, capture_output=True)
    first, second = tree(tmp_path / "one"), tree(tmp_path / "two" / "deeper")
    assert first == second
    everything = b"".join(first.values())
    assert str(tmp_path).encode() not in everything and str(store).encode() not in everything
    assert "data/text/train-00000-of-00001.parquet" in first


def test_the_command_builds_the_library_s_corpus_on_its_worker_pool(corpus, crawl, tmp_path):
    """`python -m warcpack build` (the `warcpack` command) on 2 workers writes exactly what the
    library's in-process build wrote."""
    done = subprocess.run(
        [sys.executable, "-m", "warcpack", "build", "--store", str(crawl[0]), "--out",
         str(tmp_path / "out"), "--workers", "2", "--no-progress"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rows written" in done.stderr
    assert tree(tmp_path / "out") == tree(corpus[0])


def test_an_invalid_row_is_reported_with_its_record_and_never_written(crawl, tmp_path,
                                                                      monkeypatch):
    real = warcpack.extract.extract

    def breaks_the_schema(rec, sites=None, **settings):
        result = real(rec, sites, **settings)
        if rec.url == FREE_URL and isinstance(result, Extracted):
            result.language = 42  # not a string: the schema refuses it
        return result

    monkeypatch.setattr(warcpack.extract, "extract", breaks_the_schema)
    store, _ = crawl
    out = tmp_path / "corpus"
    summary = build(store, out, workers=1, progress=False)
    assert not summary.ok and summary.skipped_by_reason["invalid-row"] == 1
    assert summary.rows_written == 4
    file, offset = offset_of(store, FREE_URL)
    saved = json.loads((out / "build-summary.json").read_text("utf-8"))
    [bad] = [s for s in saved["skipped"] if s["reason"] == "invalid-row"]
    assert (bad["warc_file"], bad["offset"]) == (file, offset)
    assert "language" in bad["detail"] and saved["invalid_rows"] == 1
    assert FREE_URL not in [r["url"] for r in jsonl_rows(out)]
    assert FREE_URL not in parquet_column(out / "data" / "metadata", "url")

    result = CliRunner().invoke(app, ["build", "--store", str(store), "--out",
                                      str(tmp_path / "cli"), "--workers", "1", "--no-progress"])
    assert result.exit_code == 1
    assert f"{file} at offset {offset}: invalid-row" in " ".join(result.output.split())


def test_redistributable_policy_drops_text_but_keeps_metadata(crawl, tmp_path):
    store, _ = crawl
    out = tmp_path / "free"
    summary = build(store, out, workers=1, text_policy="redistributable", progress=False)
    assert summary.text_rows == 1 and summary.rows_written == 5
    assert [r["url"] for r in jsonl_rows(out)] == [FREE_URL]
    assert parquet_column(out / "data" / "text", "url") == [FREE_URL]
    meta_urls = parquet_column(out / "data" / "metadata", "url")
    assert len(meta_urls) == 5 and RU_URL in meta_urls
    assert "text policy `redistributable`" in (out / "README.md").read_text("utf-8")
    assert json.loads((out / "build-summary.json").read_text("utf-8"))["text_policy"] == \
        "redistributable"


def test_user_mistakes_get_clear_errors(crawl, tmp_path):
    store, _ = crawl
    with pytest.raises(BuildError, match="no WARC store"):
        build(tmp_path / "nowhere", tmp_path / "out", progress=False)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "draft.txt").write_text("keep me")
    with pytest.raises(BuildError, match="not empty"):
        build(store, notes, progress=False)
    assert [p.name for p in notes.iterdir()] == ["draft.txt"]
    with pytest.raises(BuildError, match="must not be or contain the store"):
        build(store, store.parent, progress=False)
    with pytest.raises(BuildError, match="text policy"):
        build(store, tmp_path / "out", text_policy="some", progress=False)
    result = CliRunner().invoke(app, ["build", "--store", str(tmp_path / "nowhere"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "error:" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_show_corpus_loads_the_build_offline(corpus):
    out, _ = corpus
    script = Path(__file__).resolve().parents[1] / "scripts" / "show_corpus.py"
    env = {key: value for key, value in os.environ.items() if key not in OFFLINE}  # it sets them
    shown = subprocess.run([sys.executable, str(script), str(out), "6"], env=env, check=True,
                           capture_output=True, text=True).stdout
    assert "config 'text': 5 rows" in shown and "config 'metadata': 5 rows" in shown
    assert "date_captured: Value('timestamp[us, tz=UTC]')" in shown
    assert "Open notes on archiving" in shown and f"url:       {FREE_URL}" in shown
    assert "licence:   redistributable (CC-BY-4.0)" in shown
